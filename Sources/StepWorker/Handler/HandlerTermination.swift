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
}
