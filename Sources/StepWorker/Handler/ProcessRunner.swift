/// Runs handlers. The daemon's boundary to processes: `SubprocessRunner` is the real one.
public protocol ProcessRunner: Sendable {
    /// Starts a run and returns at once; the run goes on until the handler's group is gone.
    func start(_ invocation: HandlerInvocation) -> any RunningHandler
    /// Waits until a handler of `activity` can take a task at once and holds it for one poll;
    /// nil once `drain` began. A poll is opened only with a reservation (for warm handlers: a
    /// process waiting in `/next`). The default is immediate.
    func reserve(for activity: ActivityConfiguration, until drain: DrainSignal) async -> HandlerReservation?
    /// `activity`'s pool has ended (drained, removed by a reload, or `stepworker invoke` is
    /// done): stop whatever the runner keeps for it. The default has nothing to stop.
    func retire(_ activity: ActivityConfiguration) async
}

extension ProcessRunner {
    public func reserve(for activity: ActivityConfiguration, until drain: DrainSignal) async -> HandlerReservation? {
        drain.isDraining ? nil : .immediate
    }

    public func retire(_ activity: ActivityConfiguration) async {}
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
