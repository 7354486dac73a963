public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log handler that writes `TextLineFormat` lines to stderr (or another descriptor),
/// one write(2) per line: used when stderr is not journald's stream (a terminal, a file,
/// `stepworker check`). Like `JournalLogHandler` it logs what it is given: callers pass
/// fingerprints, never secrets or whole task tokens.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let fileDescriptor: Int32

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        fileDescriptor: Int32 = 2,  // STDERR_FILENO
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.logLevel = logLevel
        self.fileDescriptor = fileDescriptor
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = LogEventFields.metadata(of: event, handler: metadata, provider: metadataProvider)
        let line = TextLineFormat.line(level: event.level, message: event.message.description, metadata: merged)
        FileDescriptorWriter.writeAll(line, to: fileDescriptor)
    }
}
