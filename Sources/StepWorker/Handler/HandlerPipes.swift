#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The three pipes of a handler. The parent's ends are non-blocking; the child's ends are
/// closed in the parent as soon as the child has them, so EOF means the writers are gone.
struct HandlerPipes: Sendable {
    var stdinRead: Int32 = -1
    var stdinWrite: Int32 = -1
    var stdoutRead: Int32 = -1
    var stdoutWrite: Int32 = -1
    var stderrRead: Int32 = -1
    var stderrWrite: Int32 = -1

    mutating func open() throws(LaunchError) {
        (stdinRead, stdinWrite) = try PosixIO.pipe(parentEnd: .write)
        (stdoutRead, stdoutWrite) = try PosixIO.pipe(parentEnd: .read)
        (stderrRead, stderrWrite) = try PosixIO.pipe(parentEnd: .read)
        // The last pipe's ends got the lowest free numbers: past the ceiling, the reserve is in use.
        guard DescriptorLimit.withinReserve(max(stderrRead, stderrWrite)) else {
            throw LaunchError(message: "pipe: the daemon's reserve of file descriptors is reached", code: EMFILE)
        }
    }

    func closeChildEnds() {
        for fd in [stdinRead, stdoutWrite, stderrWrite] where fd >= 0 { _ = close(fd) }
    }

    /// After a failed launch: every end (the I/O loop owns the parent's ends otherwise).
    func closeAll() {
        for fd in [stdinRead, stdinWrite, stdoutRead, stdoutWrite, stderrRead, stderrWrite] where fd >= 0 {
            _ = close(fd)
        }
    }
}
