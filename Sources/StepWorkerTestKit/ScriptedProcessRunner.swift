public import StepWorker
import Synchronization

/// A `ProcessRunner` that starts no process: each `start` makes a `ScriptedHandler` the test
/// ends, and publishes it, so the test waits for "the handler started" instead of sleeping.
public final class ScriptedProcessRunner: ProcessRunner {
    public enum Event: Sendable {
        case started(ScriptedHandler)
        case terminated(ScriptedHandler, HandlerStopReason)
    }

    /// Whether `terminate(_:)` ends a run at once with `.stopped(reason)` (else the test ends it).
    public let endsRunsOnTerminate: Bool
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let started = Mutex<[ScriptedHandler]>([])

    public init(endsRunsOnTerminate: Bool = true) {
        self.endsRunsOnTerminate = endsRunsOnTerminate
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    deinit {
        continuation.finish()
    }

    /// Every handler started so far, in order.
    public var handlers: [ScriptedHandler] { started.withLock { $0 } }

    /// The next handler started (skipping other events); nil after `timeout` of real time.
    public func nextStarted(timeout: Duration = .seconds(10)) async -> ScriptedHandler? {
        guard case .started(let handler) = await events.first(where: Self.isStart, timeout: timeout) else { return nil }
        return handler
    }

    /// The next `terminate(_:)` of any handler (skipping other events); nil after `timeout`.
    public func nextTermination(timeout: Duration = .seconds(10)) async -> (ScriptedHandler, HandlerStopReason)? {
        guard case .terminated(let handler, let reason) = await events.first(where: { !Self.isStart($0) }, timeout: timeout)
        else { return nil }
        return (handler, reason)
    }

    private static func isStart(_ event: Event) -> Bool {
        if case .started = event { return true }
        return false
    }

    public func start(_ invocation: HandlerInvocation) -> any RunningHandler {
        let continuation = self.continuation
        let handler = ScriptedHandler(invocation: invocation, endsOnTerminate: endsRunsOnTerminate) { handler, reason in
            continuation.yield(.terminated(handler, reason))
        }
        started.withLock {
            $0.append(handler)
            continuation.yield(.started(handler))
        }
        return handler
    }
}
