#ifndef STEPWORKER_CSOCKDIAG_H
#define STEPWORKER_CSOCKDIAG_H

#include <stdint.h>

/// What the kernel says of one TCP socket (NETLINK_SOCK_DIAG, inet_diag).
typedef struct {
    /// TCP state (1 = ESTABLISHED); a time-wait socket reports its sub-state and no owner.
    uint8_t state;
    /// The socket's owner, as seen from the calling process's user namespace.
    uint32_t uid;
    /// The socket's inode (0 for a time-wait socket, which belongs to no process).
    uint32_t inode;
} csockdiag_socket;

/// Looks up the one IPv4 TCP socket whose local end is `src_addr:src_port` and whose remote end
/// is `dst_addr:dst_port` (addresses and ports in host byte order) with one netlink request for
/// exactly that 4-tuple: the kernel answers from its socket hash, without listing the table.
/// 0 with `out` filled; -ENOENT when no such socket exists; another -errno when the lookup
/// itself failed. Thread-safe: each call uses a socket of its own, closed before it returns.
int csockdiag_tcp4_lookup(uint32_t src_addr, uint16_t src_port, uint32_t dst_addr, uint16_t dst_port,
                          csockdiag_socket *out);

#endif
