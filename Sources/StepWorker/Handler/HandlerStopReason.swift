/// Why the worker asked a running handler to stop. It travels with the request, so what is
/// reported for the task (`TaskFate`) follows from the run's result alone.
public enum HandlerStopReason: Sendable, Equatable {
    /// A heartbeat answered that the task is gone (timed out, stopped): nothing is reported.
    case taskGone
    /// The worker is stopping and `shutdown_grace` ran out: `Worker.ShuttingDown`.
    case shutdownGrace
    /// The caller's task was cancelled (the daemon gave up waiting at exit): `Worker.ShuttingDown`.
    case cancelled
}
