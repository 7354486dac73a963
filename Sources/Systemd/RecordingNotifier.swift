import Synchronization

/// A `ServiceNotifier` for tests: records every message and publishes it on `messages`, so a
/// test waits for `READY=1` instead of sleeping.
///
/// ```swift
/// let notifier = RecordingNotifier()
/// // … start the supervisor with it …
/// let ready = await notifier.messages.first { $0.contains(.ready) }
/// ```
public final class RecordingNotifier: ServiceNotifier {
    /// Every message so far, in order, as one stream (single consumer, unbounded buffer).
    public let messages: AsyncStream<[ServiceNotification]>
    private let continuation: AsyncStream<[ServiceNotification]>.Continuation
    private let recorded = Mutex<[[ServiceNotification]]>([])

    public init() {
        (messages, continuation) = AsyncStream.makeStream(of: [ServiceNotification].self)
    }

    deinit {
        continuation.finish()
    }

    public func notify(_ notifications: [ServiceNotification]) {
        guard !notifications.isEmpty else { return }
        recorded.withLock {
            $0.append(notifications)
            continuation.yield(notifications)
        }
    }

    /// Every message so far, in order.
    public var history: [[ServiceNotification]] {
        recorded.withLock { $0 }
    }

    /// Every notification so far, flattened, as the `KEY=VALUE` lines sd_notify would send.
    public var assignments: [String] {
        history.joined().map(\.assignment)
    }

    /// Ends `messages`, so a `for await` over it returns.
    public func finish() {
        continuation.finish()
    }
}
