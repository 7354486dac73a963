public import Logging
import Synchronization

public struct RecordingLogHandler: LogHandler {
    public let store: RecordingLogHandlerStore
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(store: RecordingLogHandlerStore) {
        self.store = store
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.append(.init(
            level: event.level, message: event.message.description,
            metadata: merged.mapValues { "\($0)" }))
    }
}
