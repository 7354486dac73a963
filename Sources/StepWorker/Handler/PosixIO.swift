#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import POSIXSupport

/// The few POSIX calls the runner makes, wrapped so errors are values.
enum PosixIO {
    /// A pipe, both ends close-on-exec (the child gets its end by dup2, which clears the flag;
    /// the spawn also closes every other descriptor in the child, so the moment between pipe and
    /// fcntl leaks nothing into concurrently spawned handlers).
    static func pipe() throws(LaunchError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw LaunchError(errno: errno, doing: "pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func closeIfOpen(_ fd: inout Int32?) {
        if let open = fd { _ = close(open) }
        fd = nil
    }

    /// SIGPIPE would kill the daemon when a handler closes its stdin early; ignoring it turns that
    /// into EPIPE. Children get default dispositions back (`LaunchPlan.spawn` resets them all).
    static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}

/// Why a handler could not start, as errno text.
package struct LaunchError: Error {
    package var message: String

    package init(message: String) {
        self.message = message
    }

    package init(errno code: Int32, doing operation: String) {
        self.message = "\(operation): \(POSIX.describe(code))"
    }
}

/// Home directories of users, for a handler's `HOME`.
enum UserDirectory {
    static func home(of user: String) -> String? {
        guard let entry = getpwnam(user), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }
}
