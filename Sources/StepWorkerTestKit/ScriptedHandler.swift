public import StepWorker
import Synchronization

/// A handler run that a test ends: `finish(_:)` with any result, or `terminate(_:)` (as the
/// worker does), which by default ends it at once with `.stopped(reason)`.
public final class ScriptedHandler: RunningHandler {
    /// What the worker asked to run.
    public let invocation: HandlerInvocation
    private let endsOnTerminate: Bool
    private let onTerminate: @Sendable (ScriptedHandler, HandlerStopReason) -> Void

    private struct State {
        var result: HandlerRunResult?
        var stopReasons: [HandlerStopReason] = []
        var waiters: [CheckedContinuation<HandlerRunResult, Never>] = []
    }

    private let state = Mutex(State())

    init(
        invocation: HandlerInvocation, endsOnTerminate: Bool,
        onTerminate: @escaping @Sendable (ScriptedHandler, HandlerStopReason) -> Void
    ) {
        self.invocation = invocation
        self.endsOnTerminate = endsOnTerminate
        self.onTerminate = onTerminate
    }

    /// Every `terminate(_:)` so far, in order.
    public var stopReasons: [HandlerStopReason] { state.withLock { $0.stopReasons } }

    /// Whether someone waits in `result()`: the worker has done what it does before it waits.
    public var isAwaited: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// The result, once the run ended.
    public var finishedResult: HandlerRunResult? { state.withLock { $0.result } }

    /// Ends the run with `result`; false (and nothing changes) if it had already ended.
    @discardableResult
    public func finish(_ result: HandlerRunResult) -> Bool {
        let waiters: [CheckedContinuation<HandlerRunResult, Never>]? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: result) }
        return true
    }

    /// Ends the run as a handler that exited with `status` after writing `stdout`.
    @discardableResult
    public func exit(_ status: Int32, stdout: String = "", stderr: String = "") -> Bool {
        finish(HandlerRunResult(termination: .exited(status), stdout: Array(stdout.utf8), stderrTail: stderr))
    }

    // MARK: RunningHandler

    public func terminate(_ reason: HandlerStopReason) {
        let first = state.withLock { state in
            state.stopReasons.append(reason)
            return state.stopReasons.count == 1
        }
        onTerminate(self, reason)
        // The first reason is the one reported, as with a real process group.
        if endsOnTerminate, first { finish(HandlerRunResult(termination: .stopped(reason))) }
    }

    public func result() async -> HandlerRunResult {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> HandlerRunResult? in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}
