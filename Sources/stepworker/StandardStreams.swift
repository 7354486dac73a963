#if canImport(Glibc)
import Glibc
#endif
import Logging
import StepWorker

/// Unbuffered writes to stdout and stderr (Swift's `print` is fully buffered on a pipe).
enum StandardStreams {
    static func writeOut(_ text: String) { write(text, to: STDOUT_FILENO) }
    static func writeError(_ text: String) { write(text, to: STDERR_FILENO) }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    struct ReadFailure: Error {
        var message: String
    }

    /// A whole file, or stdin when `path` is nil.
    static func readAll(path: String?) -> Result<[UInt8], ReadFailure> {
        let fd = path.map { open($0, O_RDONLY | O_CLOEXEC) } ?? STDIN_FILENO
        guard fd >= 0 else { return .failure(ReadFailure(message: ErrnoText.describe(errno))) }
        defer { if path != nil { close(fd) } }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(message: ErrnoText.describe(errno)))
            }
            if count == 0 { return .success(contents) }
            contents.append(contentsOf: buffer[0..<count])
        }
    }
}

/// Writes each log message as a plain line to stderr: `invoke` shows a handler's stderr as the
/// handler wrote it.
struct PlainLineLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        StandardStreams.writeError("\(event.message)\n")
    }
}
