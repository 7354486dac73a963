import Synchronization

/// One task run by a warm process: the `RunningHandler` that `TaskRun` holds. It waits in its
/// activity's `WarmProcessPool` for a process in `/next`, then ends when that process answers,
/// runs past `timeout`, dies, or is stopped (`terminate`). The result is a `HandlerRunResult`
/// like a stdio handler's, so `TaskFate` decides the task's fate the same way.
final class WarmTaskRun: RunningHandler {
    let invocation: HandlerInvocation
    let requestID: String
    let started = ContinuousClock.now
    private let dequeue: @Sendable (WarmTaskRun) -> Void

    private struct State {
        var result: HandlerRunResult?
        var waiters: [CheckedContinuation<HandlerRunResult, Never>] = []
        var process: WarmProcess?
        var stopReason: HandlerStopReason?
    }

    private let state = Mutex(State())

    init(invocation: HandlerInvocation, requestID: String, dequeue: @escaping @Sendable (WarmTaskRun) -> Void) {
        self.invocation = invocation
        self.requestID = requestID
        self.dequeue = dequeue
    }

    func terminate(_ reason: HandlerStopReason) {
        enum Step { case nothing, finishNow, kill(WarmProcess) }
        let step: Step = state.withLock { state in
            guard state.result == nil, state.stopReason == nil else { return .nothing }
            state.stopReason = reason
            if let process = state.process { return .kill(process) }
            return .finishNow
        }
        switch step {
        case .nothing: break
        case .finishNow:
            dequeue(self)
            finish(.stopped(reason))
        case .kill(let process):
            process.kill(.stop(reason), holding: self)
        }
    }

    /// Binds the task to the process that takes it; false when it was stopped or ended already.
    func attach(to process: WarmProcess) -> Bool {
        state.withLock { state in
            guard state.result == nil, state.stopReason == nil else { return false }
            state.process = process
            return true
        }
    }

    /// Ends the run; only the first call counts.
    @discardableResult
    func finish(
        _ termination: HandlerTermination, stdout: [UInt8] = [], stdoutBytes: Int? = nil, stderrTail: String = "",
        processID: Int32? = nil
    ) -> Bool {
        // The lines the rate limit dropped since this task was handed over (any still in the
        // pipe when the answer came count for the process, and are reported with it).
        let dropped = state.withLock { $0.process }?.stderrGate.droppedLines ?? 0
        let result = HandlerRunResult(
            termination: termination, stdout: stdout, stdoutBytes: stdoutBytes, stderrTail: stderrTail,
            stderrLinesDropped: dropped, duration: ContinuousClock.now - started, processID: processID)
        let waiters: [CheckedContinuation<HandlerRunResult, Never>]? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: result) }
        return true
    }

    func result() async -> HandlerRunResult {
        await withCheckedContinuation { continuation in
            let ready: HandlerRunResult? = state.withLock { state in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
