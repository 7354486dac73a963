#ifndef STEPWORKER_CSPAWN_H
#define STEPWORKER_CSPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// What to start: everything is prepared by the caller, because the child may not allocate.
typedef struct {
    /// The file to execute (no PATH search).
    const char *path;
    /// NULL-terminated argv and envp.
    char *const *argv;
    char *const *envp;
    /// Entered after the identity is dropped; NULL: the daemon's directory.
    const char *directory;
    /// Become the child's 0, 1 and 2 (they may be close-on-exec; any number, even 0-2).
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /// Non-zero: set the supplementary groups and the group (and the user if `set_user`).
    int set_identity;
    int set_user;
    uint32_t uid;
    uint32_t gid;
    const uint32_t *groups;
    size_t group_count;
    /// The daemon's pid: the child checks, after PR_SET_PDEATHSIG, that it is still its parent.
    pid_t expected_parent;
} cspawn_request;

/// Why a spawn failed: the step (a static string) and its errno.
typedef struct {
    const char *failed_step;
    int error;
} cspawn_failure;

/// Starts `request` in a new session and returns its pid, or -1 with `failure` filled in (the
/// child, if one was made, is reaped). See spawn.c for what the child does, and why.
///
/// PR_SET_PDEATHSIG belongs to the *calling thread*: the child is SIGKILLed when this thread
/// exits, not when the process does. Call it only from a thread that lives until the child is
/// gone, never from a thread of a pool.
pid_t cspawn_spawn(const cspawn_request *request, cspawn_failure *failure);

/// The soft RLIMIT_NOFILE every handler started from now on gets (0: the daemon's own). The
/// daemon raises its own soft limit to the hard one; its handlers keep the limit it was started
/// with, as systemd gives services 1024: programs that size a select() set or walk every
/// possible descriptor by that limit stay fast and correct. Call before the first spawn.
void cspawn_set_handler_nofile_limit(unsigned long long soft);

/// pidfd_open(2): a close-on-exec descriptor that becomes readable when `pid` exits; -1 with
/// errno (kernels before 5.3).
int cspawn_pidfd_open(pid_t pid);

/// A pipe with both ends close-on-exec from the start (pipe2, which Swift's Glibc module does not
/// export), and the end `nonblocking_end` (0: read, 1: write, else none) made non-blocking with
/// one F_SETFL (a new pipe has no other status flags to keep). 0, or -1 with errno and no
/// descriptor left open. Two system calls where pipe + F_SETFD x 2 + F_GETFL/F_SETFL took five.
int cspawn_pipe(int fds[2], int nonblocking_end);

#endif
