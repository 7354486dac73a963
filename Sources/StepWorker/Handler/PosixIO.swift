#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSpawn
import POSIXSupport

/// The few POSIX calls the runner makes, wrapped so errors are values.
enum PosixIO {
    /// Which end of a new pipe the parent keeps, and so makes non-blocking for the reactor.
    enum ParentEnd: Int32 {
        case read = 0
        case write = 1
    }

    /// A pipe, both ends close-on-exec from the start (the child gets its end by dup2, which
    /// clears the flag), the parent's end non-blocking; the child's end stays blocking, as
    /// handlers expect their stdio. Two system calls (`cspawn_pipe`).
    static func pipe(parentEnd: ParentEnd) throws(LaunchError) -> (read: Int32, write: Int32) {
        var fds: (Int32, Int32) = (-1, -1)
        let result = withUnsafeMutableBytes(of: &fds) { raw in
            cspawn_pipe(raw.baseAddress!.assumingMemoryBound(to: Int32.self), parentEnd.rawValue)
        }
        guard result == 0 else { throw LaunchError(errno: errno, doing: "pipe") }
        return (fds.0, fds.1)
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
    /// The errno behind it, when one is (`LaunchPause` tells a shortage from a bad handler).
    package var code: Int32?

    package init(message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }

    package init(errno code: Int32, doing operation: String) {
        self.message = "\(operation): \(POSIX.describe(code))"
        self.code = code
    }
}
