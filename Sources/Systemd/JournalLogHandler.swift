import CSystemd
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log handler that writes native journald entries with `sd_journal_sendv(3)`: the
/// message, its priority, `SYSLOG_IDENTIFIER`, the code location and every metadata key as a
/// field of its own (`JournalFields`), so `journalctl -u stepworker STEPWORKER_ACTIVITY=x` works.
///
/// The handler logs what it is given. Callers must never put secrets or whole task tokens in
/// messages or metadata: pass fingerprints (`STEPWORKER_TASK_ID`).
///
/// If journald refuses an entry, the line goes to stderr instead (which systemd also collects).
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    /// `SYSLOG_IDENTIFIER` of every entry.
    public let identifier: String

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        identifier: String = "stepworker",
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.logLevel = logLevel
        self.identifier = identifier
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = LogEventFields.metadata(of: event, handler: metadata, provider: metadataProvider)
        let fields = JournalFields.entry(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            identifier: identifier,
            file: event.file,
            function: event.function,
            line: event.line
        )
        if Self.send(fields) < 0 {
            let line = TextLineFormat.line(level: event.level, message: event.message.description, metadata: merged)
            FileDescriptorWriter.writeAll(line, to: STDERR_FILENO)
        }
    }

    /// Sends one entry made of `FIELD=value` strings; returns sd_journal_sendv's result
    /// (0 when sent or when there is no journald at all, a negative errno on failure).
    static func send(_ fields: [String]) -> Int32 {
        var storage: [UInt8] = []
        storage.reserveCapacity(fields.reduce(0) { $0 + $1.utf8.count })
        var spans: [(offset: Int, count: Int)] = []
        spans.reserveCapacity(fields.count)
        for field in fields {
            spans.append((storage.count, field.utf8.count))
            storage.append(contentsOf: field.utf8)
        }
        return storage.withUnsafeMutableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -EINVAL }
            let vectors = spans.map { iovec(iov_base: base + $0.offset, iov_len: $0.count) }
            return sd_journal_sendv(vectors, Int32(vectors.count))
        }
    }
}
