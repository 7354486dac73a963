// One exact-socket lookup through NETLINK_SOCK_DIAG (the interface `ss` uses): the Runtime API
// listener asks who owns the peer's end of a connection it accepted. /proc/net/tcp lists every
// socket of the namespace (a blocking read that grows with other users' sockets) and cannot tell
// two sockets apart whose ports match; this asks the kernel for one 4-tuple and gets that socket.
#define _GNU_SOURCE
#include "CSockDiag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

// `address` as the kernel reported it: an IPv4 socket's, or a dual-stack IPv6 socket's
// v4-mapped one (::ffff:a.b.c.d; a runtime such as Java connects that way to 127.0.0.1).
static int same_address(const struct inet_diag_msg *socket_info, const __be32 reported[4], uint32_t address) {
    if (socket_info->idiag_family == AF_INET) return reported[0] == htonl(address);
    return socket_info->idiag_family == AF_INET6 && reported[0] == 0 && reported[1] == 0 &&
           reported[2] == htonl(0xffff) && reported[3] == htonl(address);
}

int csockdiag_tcp4_lookup(uint32_t src_addr, uint16_t src_port, uint32_t dst_addr, uint16_t dst_port,
                          csockdiag_socket *out) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -errno;

    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    // No NLM_F_DUMP: a request for one socket, found by its 4-tuple in the kernel's hash.
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.header.nlmsg_seq = 1;
    message.request.sdiag_family = AF_INET;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    message.request.id.idiag_sport = htons(src_port);
    message.request.id.idiag_dport = htons(dst_port);
    message.request.id.idiag_src[0] = htonl(src_addr);
    message.request.id.idiag_dst[0] = htonl(dst_addr);
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    struct iovec request_vector = {.iov_base = &message, .iov_len = sizeof message};
    struct msghdr request_header = {
        .msg_name = &kernel, .msg_namelen = sizeof kernel, .msg_iov = &request_vector, .msg_iovlen = 1};
    ssize_t sent;
    do { sent = sendmsg(fd, &request_header, 0); } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        int error = errno;
        close(fd);
        return -error;
    }

    // The kernel builds the answer inside sendmsg, so it is queued already; the timeout only
    // guards against a kernel that never answers, so a pool thread cannot hang here.
    struct timeval limit = {.tv_sec = 1, .tv_usec = 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    long answer[2048 / sizeof(long)];
    ssize_t received;
    do { received = recv(fd, answer, sizeof answer, 0); } while (received < 0 && errno == EINTR);
    int error = received < 0 ? errno : 0;
    close(fd);
    if (received < 0) return -error;

    const struct nlmsghdr *reply = (const struct nlmsghdr *)answer;
    for (int remaining = (int)received; NLMSG_OK(reply, remaining); reply = NLMSG_NEXT(reply, remaining)) {
        if (reply->nlmsg_seq != 1) continue;
        if (reply->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *failure = NLMSG_DATA(reply);
            if (reply->nlmsg_len < NLMSG_LENGTH(sizeof *failure)) return -EPROTO;
            return failure->error < 0 ? failure->error : -EPROTO;
        }
        if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
        if (reply->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return -EPROTO;
        const struct inet_diag_msg *socket_info = NLMSG_DATA(reply);
        // The kernel matched the 4-tuple; check it anyway, so a kernel that answered with
        // another socket is refused rather than believed.
        if (!same_address(socket_info, socket_info->id.idiag_src, src_addr) ||
            !same_address(socket_info, socket_info->id.idiag_dst, dst_addr) ||
            socket_info->id.idiag_sport != htons(src_port) || socket_info->id.idiag_dport != htons(dst_port)) {
            return -EPROTO;
        }
        out->state = socket_info->idiag_state;
        out->uid = socket_info->idiag_uid;
        out->inode = socket_info->idiag_inode;
        return 0;
    }
    return -ENOENT;
}
