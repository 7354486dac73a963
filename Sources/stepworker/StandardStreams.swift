#if canImport(Glibc)
import Glibc
#endif
import Logging
import POSIXSupport
import StepWorker

/// Unbuffered writes to stdout and stderr (Swift's `print` is fully buffered on a pipe).
enum StandardStreams {
    static func writeOut(_ text: String) { write(text, to: STDOUT_FILENO) }
    static func writeError(_ text: String) { write(text, to: STDERR_FILENO) }

    /// Gives up silently on errors: there is nowhere else to say so.
    private static func write(_ text: String, to fd: Int32) {
        try? POSIX.writeAll(text, to: fd)
    }

    struct ReadFailure: Error {
        var message: String
    }

    /// A whole file, or stdin when `path` is nil.
    static func readAll(path: String?) -> Result<[UInt8], ReadFailure> {
        do throws(SystemCallError) {
            if let path { return .success(try POSIX.readFile(atPath: path)) }
            return .success(try POSIX.readAll(from: STDIN_FILENO))
        } catch {
            return .failure(ReadFailure(message: error.errnoText))
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
