/// How a handler's run ended, as data.
public enum HandlerTermination: Sendable, Equatable {
    /// It exited by itself with this status.
    case exited(Int32)
    /// A signal the worker did not send killed it.
    case signalled(Int32)
    /// It ran past `timeout`; the worker ended its process group.
    case timedOut(limit: Duration)
    /// The worker asked it to stop (`terminate(_:)`) and ended its group; the reason is the
    /// first one asked for.
    case stopped(HandlerStopReason)
    /// It never started; the text says why (errno text).
    case launchFailed(String)
    /// A warm (`protocol = "lambda"`) handler's function answered with an error body
    /// (`/invocation/{id}/error`); the body is the run's `stdout`, this is its `errorType`.
    case functionError(type: String)
    /// A warm handler's process ended (or closed its Runtime API connection) while it held the
    /// task; the wrapped termination says how the process ended.
    indirect case crashed(HandlerTermination)
}
