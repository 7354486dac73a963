import Logging
import Synchronization

/// The log handler of a warm process's stderr: the activity's fields always, and the task's
/// (`STEPWORKER_TASK_ID`) from its handout until the next task's (stderr is read on its own, so
/// a line written before the answer may be read after it), so `journalctl STEPWORKER_TASK_ID=…`
/// finds the lines a task caused even though the process outlives it.
struct WarmLogHandler: LogHandler {
    final class Context: Sendable {
        private let fields = Mutex<Logger.Metadata>([:])
        var metadata: Logger.Metadata { fields.withLock { $0 } }
        func set(_ metadata: Logger.Metadata) { fields.withLock { $0 = metadata } }
    }

    var inner: any LogHandler
    let context: Context

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        let task = context.metadata
        guard !task.isEmpty else { return inner.log(event: event) }
        var event = event
        event.metadata = task.merging(event.metadata ?? [:]) { $1 }
        inner.log(event: event)
    }
}
