#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A system call that failed: which one, and errno. Callers map it to their own error (or
/// ignore it), so each keeps its own wording.
package struct SystemCallError: Error, Equatable, CustomStringConvertible {
    /// The call, as in the manual: `open`, `read`, `write`.
    package var call: String
    package var errno: Int32

    package init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The errno text alone (`No such file or directory`).
    package var errnoText: String { POSIX.describe(errno) }

    package var description: String { "\(call): \(errnoText)" }
}

/// The blocking read and write loops every module needs, each in one place: retried on EINTR,
/// short writes continued.
package enum POSIX {
    /// One read(2) into `buffer`, retried on EINTR: the byte count, 0 at end of file.
    package static func readSome(from fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SystemCallError(call: "read", errno: errno) }
        }
    }

    /// Everything up to end of file; stops early once more than `limit` bytes came (the result
    /// then holds more than `limit`, so the caller can tell and say so).
    package static func readAll(from fd: Int32, limit: Int = .max) throws(SystemCallError) -> [UInt8] {
        var contents: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        while contents.count <= limit {
            let count = try readSome(from: fd, into: buffer)
            if count == 0 { break }
            contents.append(contentsOf: buffer[0..<count])
        }
        return contents
    }

    /// A whole file (`readAll`, with the same `limit`); the error's call is `open` or `read`.
    package static func readFile(atPath path: String, limit: Int = .max) throws(SystemCallError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", errno: errno) }
        defer { _ = close(fd) }
        return try readAll(from: fd, limit: limit)
    }

    /// All of `bytes`, in one write(2) when the descriptor takes it whole (a pipe does, up to
    /// PIPE_BUF bytes, so concurrent writers' lines do not interleave), continuing after a short
    /// write or EINTR. With `offset`, written there (pwrite(2)), the file offset left alone.
    package static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, at offset: Int? = nil) throws(SystemCallError) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        var position = offset ?? 0
        while remaining > 0 {
            let written = offset == nil ? write(fd, next, remaining) : pwrite(fd, next, remaining, off_t(position))
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: offset == nil ? "write" : "pwrite", errno: errno)
            }
            next += written
            remaining -= written
            position += written
        }
    }

    package static func writeAll(_ bytes: [UInt8], to fd: Int32, at offset: Int? = nil) throws(SystemCallError) {
        // withUnsafeBytes rethrows untyped errors: carry the failure out as a value.
        let failure: SystemCallError? = bytes.withUnsafeBytes { buffer in
            do throws(SystemCallError) {
                try writeAll(buffer, to: fd, at: offset)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    package static func writeAll(_ text: String, to fd: Int32) throws(SystemCallError) {
        try writeAll(Array(text.utf8), to: fd)
    }

    /// Monotonic time in milliseconds.
    package static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// `strerror` text for an errno value.
    package static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}

extension Duration {
    /// Whole milliseconds, rounded up, for poll timeouts and deadlines (a wait never ends early).
    package var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
