/// Runs handlers. The daemon's boundary to processes: `SubprocessRunner` is the real one.
public protocol ProcessRunner: Sendable {
    /// Starts a run and returns at once; the run goes on until the handler's group is gone.
    func start(_ invocation: HandlerInvocation) -> any RunningHandler
}

extension ProcessRunner {
    /// Runs to the end. Cancelling the calling task stops the handler (TERM, then KILL after
    /// `kill_grace`) and still waits for its group to be gone; the result is then
    /// `.stopped(.cancelled)`.
    public func run(_ invocation: HandlerInvocation) async -> HandlerRunResult {
        let handler = start(invocation)
        return await withTaskCancellationHandler {
            await handler.result()
        } onCancel: {
            handler.terminate(.cancelled)
        }
    }
}
