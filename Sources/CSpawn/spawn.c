// The handler spawn: clone(CLONE_VM | CLONE_VFORK) onto a stack of its own, as glibc's
// posix_spawn does, with the steps posix_spawn has no attribute for (PR_SET_PDEATHSIG and the
// check that follows it, the identity, closing every other descriptor).
//
// The child shares the daemon's memory until it execs, while the daemon's other threads go on
// running: it may only make system calls (async-signal-safe ones), touch its own stack and
// read what the caller prepared. In particular the identity is changed with raw syscalls:
// glibc's setgroups/setresgid/setresuid would broadcast the change to every thread of what it
// believes is its process (the daemon's threads, through the shared memory) and can wait
// forever on a lock one of them held at the moment of the clone.
#define _GNU_SOURCE
#include "CSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHILD_STACK_SIZE = 64 * 1024 };

// The child's stack, one per spawning thread, kept for the thread's life: the child is done
// with it once clone returns (CLONE_VFORK), and an mmap + munmap per spawn cost about 2% of
// the daemon's CPU under load (munmap's TLB shootdown reaches every thread of the daemon).
static pthread_key_t stack_key;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;

static void unmap_stack(void *stack) { munmap(stack, CHILD_STACK_SIZE); }
static void make_stack_key(void) { (void)pthread_key_create(&stack_key, unmap_stack); }

static void *thread_stack(void) {
    pthread_once(&stack_key_once, make_stack_key);
    void *stack = pthread_getspecific(stack_key);
    if (stack != NULL) return stack;
    stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return NULL;
    if (pthread_setspecific(stack_key, stack) != 0) {
        munmap(stack, CHILD_STACK_SIZE);
        return NULL;
    }
    return stack;
}

struct child_context {
    const cspawn_request *request;
    // Written by the child just before it _exits; read by the parent once clone returns
    // (CLONE_VFORK: the calling thread is suspended until the child has exec'd or exited).
    const char *volatile failed_step;
    volatile int error;
};

__attribute__((noreturn)) static void fail(struct child_context *context, const char *step, int error) {
    context->error = error;
    context->failed_step = step;
    _exit(127);
}

/// Every descriptor from 3 up. close_range(2) needs Linux 5.9; before that, one close(2) per
/// possible descriptor (reading /proc/self/fd would need opendir, which allocates).
static void close_from_3(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
    struct rlimit limit;
    long end = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) end = (long)limit.rlim_cur;
    for (long fd = 3; fd < end; fd++) (void)close((int)fd);
}

/// The kernel's struct sigaction (rt_sigaction(2)), the same on x86_64 and arm64.
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

/// Every disposition back to the default. The daemon ignores SIGPIPE (and SIGTERM, SIGINT and
/// SIGHUP, which it reads through Dispatch); exec keeps ignored signals ignored, so without this
/// a handler could not be stopped with TERM. Caught signals would be reset by exec anyway, but
/// until then their handlers are the daemon's code on the daemon's memory: every signal stays
/// blocked (the parent blocked them all before the clone) until they are all SIG_DFL.
/// A raw rt_sigaction, because glibc's sigaction refuses its two internal signals (32 and 33),
/// and an ignored 32 inherited by the daemon would otherwise reach the handler.
static void reset_signal_dispositions(void) {
    struct kernel_sigaction action;
    memset(&action, 0, sizeof action);
    action.handler = SIG_DFL;
    for (int number = 1; number <= 64; number++) {
        if (number == SIGKILL || number == SIGSTOP) continue;
        (void)syscall(SYS_rt_sigaction, number, &action, NULL, sizeof action.mask);
    }
}

static unsigned long long handler_nofile_limit;

void cspawn_set_handler_nofile_limit(unsigned long long soft) { handler_nofile_limit = soft; }

/// The handler's soft descriptor limit back to what the daemon was started with. rlimits belong
/// to the process (CLONE_VM without CLONE_THREAD copies them), so the daemon's are untouched.
static void restore_descriptor_limit(void) {
    struct rlimit limit;
    if (handler_nofile_limit == 0 || getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (handler_nofile_limit >= limit.rlim_cur) return;
    limit.rlim_cur = (rlim_t)handler_nofile_limit;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
}

static int child_main(void *argument) {
    struct child_context *context = argument;
    const cspawn_request *request = context->request;

    // First the descriptors, to hold the daemon's for as short a time as possible: until they
    // are closed, a file another thread has open for writing cannot be exec'd (ETXTBSY).
    // The pipe ends become 0, 1 and 2. An end that is itself 0-2 (the daemon started with a
    // standard descriptor closed) is first moved above 2, so no dup2 overwrites an end still
    // needed, and so dup2 always clears close-on-exec (dup2(fd, fd) would not).
    int ends[3] = {request->stdin_fd, request->stdout_fd, request->stderr_fd};
    for (int target = 0; target < 3; target++) {
        if (ends[target] >= 3) continue;
        ends[target] = fcntl(ends[target], F_DUPFD_CLOEXEC, 3);
        if (ends[target] < 0) fail(context, "fcntl", errno);
    }
    for (int target = 0; target < 3; target++) {
        if (dup2(ends[target], target) < 0) fail(context, "dup2", errno);
    }
    close_from_3();
    restore_descriptor_limit();

    // Its own session, so its own process group: every signal the worker sends goes to the group.
    if (setsid() < 0) fail(context, "setsid", errno);

    if (request->set_identity) {
        if (syscall(SYS_setgroups, request->group_count, request->groups) != 0) fail(context, "setgroups", errno);
        if (syscall(SYS_setresgid, request->gid, request->gid, request->gid) != 0) fail(context, "setresgid", errno);
        if (request->set_user && syscall(SYS_setresuid, request->uid, request->uid, request->uid) != 0) {
            fail(context, "setresuid", errno);
        }
    }
    // As the handler's user: a directory it may not enter is a launch failure, not a way in.
    if (request->directory != NULL && chdir(request->directory) != 0) fail(context, "chdir", errno);

    reset_signal_dispositions();

    // SIGKILL when the spawning thread exits, the daemon's death included. Set after the
    // identity (a credential change clears it) and checked against the race it cannot see: a
    // daemon that died before this line has made us an orphan whose parent is now someone else.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail(context, "prctl", errno);
    if (getppid() != request->expected_parent) fail(context, "parent exited before exec", ESRCH);

    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) fail(context, "sigprocmask", errno);
    execve(request->path, request->argv, request->envp);
    fail(context, "exec", errno);
}

/// Whether SIGCHLD has its default disposition (ignore) or is ignored: no handler of the daemon's
/// to run on its memory in the child.
static bool child_signal_is_default(void) {
    struct sigaction current;
    if (sigaction(SIGCHLD, NULL, &current) != 0) return false;
    return !(current.sa_flags & SA_SIGINFO) && (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN);
}

pid_t cspawn_spawn(const cspawn_request *request, cspawn_failure *failure) {
    struct child_context context = {.request = request, .failed_step = NULL, .error = 0};
    void *stack = thread_stack();
    if (stack == NULL) {
        failure->failed_step = "mmap";
        failure->error = errno;
        return -1;
    }
    sigset_t all, previous;
    sigfillset(&all);
    // A SIGCHLD that finds this thread blocking it is not discarded but passed on to a thread
    // that takes it (libdispatch's, on the main thread, which wakes only to ignore it): with
    // spawns back to back, a third of the handlers' exits fell inside this window. The child
    // cannot get one before its exec (it has no children yet), and with no handler installed
    // there is nothing of the daemon's to run in it.
    if (child_signal_is_default()) sigdelset(&all, SIGCHLD);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &context);
    int clone_error = errno;  // meaningful only if clone failed: the child shares this errno
    pthread_sigmask(SIG_SETMASK, &previous, NULL);

    if (pid < 0) {
        failure->failed_step = "clone";
        failure->error = clone_error;
        return -1;
    }
    if (context.failed_step != NULL) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        failure->failed_step = context.failed_step;
        failure->error = context.error;
        return -1;
    }
    return pid;
}

int cspawn_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0U);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int cspawn_pipe(int fds[2], int nonblocking_end) {
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    if (nonblocking_end == 0 || nonblocking_end == 1) {
        if (fcntl(fds[nonblocking_end], F_SETFL, O_NONBLOCK) != 0) {
            int saved = errno;
            close(fds[0]);
            close(fds[1]);
            errno = saved;
            return -1;
        }
    }
    return 0;
}
