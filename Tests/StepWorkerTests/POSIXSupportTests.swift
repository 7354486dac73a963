import Foundation
import POSIXSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The shared read and write loops against a real pipe, and the millisecond rounding.
@Suite("POSIXSupport: read and write loops, milliseconds", .timeLimit(.minutes(1)))
struct POSIXSupportTests {
    /// Close-on-exec, so a child another test spawns meanwhile does not keep an end open.
    func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    @Test func readAllReadsWhatWasWrittenUpToEndOfFile() throws {
        let ends = try makePipe()
        defer { close(ends.read) }
        try POSIX.writeAll("hello, pipe\n", to: ends.write)
        close(ends.write)
        #expect(try POSIX.readAll(from: ends.read) == Array("hello, pipe\n".utf8))
    }

    /// 1 MiB is far more than a pipe holds (64 KiB): the writer blocks until the reader, on a
    /// thread of its own, empties the pipe, and nothing is lost or reordered.
    @Test func writeAllLargerThanThePipeBufferFromAnotherThread() async throws {
        let ends = try makePipe()
        defer { close(ends.read) }
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let writer = ends.write
        let written = Task.detached { () -> SystemCallError? in
            await withCheckedContinuation { continuation in
                Thread {
                    defer { close(writer) }
                    do throws(SystemCallError) {
                        try POSIX.writeAll(bytes, to: writer)
                        continuation.resume(returning: nil)
                    } catch {
                        continuation.resume(returning: error)
                    }
                }.start()
            }
        }
        let read = try POSIX.readAll(from: ends.read)
        #expect(await written.value == nil)
        #expect(read.count == bytes.count)
        #expect(read == bytes)
    }

    @Test func readAllStopsOnceMoreThanTheLimitCame() throws {
        let ends = try makePipe()
        defer { close(ends.read) }
        try POSIX.writeAll([UInt8](repeating: 7, count: 1000), to: ends.write)
        close(ends.write)
        let read = try POSIX.readAll(from: ends.read, limit: 10)
        #expect(read.count > 10, "more than the limit tells the caller it was too much")
    }

    @Test func errorsNameTheCallAndErrno() throws {
        #expect(throws: SystemCallError(call: "open", errno: ENOENT)) {
            try POSIX.readFile(atPath: "/nonexistent/\(UUID())")
        }
        // EPIPE from a socket shut for writing: closing a pipe's read end is not enough while
        // tests beside this one spawn children, since a child can hold a copy of it until exec.
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        try #require(shutdown(pair[0], Int32(SHUT_WR)) == 0)
        let ignore = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, ignore) }
        #expect(throws: SystemCallError(call: "write", errno: EPIPE)) { try POSIX.writeAll("x", to: pair[0]) }
        #expect(throws: SystemCallError(call: "read", errno: EBADF)) { try POSIX.readAll(from: -1) }
    }

    @Test func readFileReadsAWholeFile() throws {
        let path = NSTemporaryDirectory() + "posix-support-\(UUID())"
        let contents = Array(repeating: Array("line\n".utf8), count: 30_000).flatMap { $0 }
        try Data(contents).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(try POSIX.readFile(atPath: path) == contents)
    }

    @Test(arguments: [
        (Duration.zero, Int64(0)),
        (.milliseconds(250), 250),
        (.nanoseconds(1), 1),
        (.microseconds(1500), 2),
        (.nanoseconds(999_999), 1),
        (.nanoseconds(1_000_001), 2),
        (.seconds(3), 3000),
        (.seconds(2) + .nanoseconds(1), 2001),
    ])
    func millisecondsRoundUp(duration: Duration, expected: Int64) {
        #expect(duration.milliseconds == expected)
    }
}
