public import Logging
import Synchronization

/// Keeps every log message, and lets a test wait for one instead of sleeping.
public final class RecordingLogHandlerStore: Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]

        public init(level: Logger.Level, message: String, metadata: [String: String]) {
            self.level = level
            self.message = message
            self.metadata = metadata
        }
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    public var all: [Entry] { entries.withLock { $0 } }
    public var messages: [String] { all.map(\.message) }

    public func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    /// Waits (`waitUntil`, at most `timeout`) until a message satisfies `predicate`.
    public func waitFor(timeout: Duration = .seconds(10), _ predicate: (String) -> Bool) async -> Bool {
        (try? await waitUntil(timeout: timeout) { messages.contains(where: predicate) }) ?? false
    }

    public func logger() -> Logger {
        Logger(label: "test") { _ in RecordingLogHandler(store: self) }
    }
}
