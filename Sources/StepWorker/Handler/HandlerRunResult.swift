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

/// Everything the outcome mapping needs to know about one run.
public struct HandlerRunResult: Sendable, Equatable {
    public var termination: HandlerTermination
    /// stdout, at most `maxOutput` bytes of it.
    public var stdout: [UInt8]
    /// How many bytes the handler wrote to stdout in all.
    public var stdoutBytes: Int
    /// The last bytes (up to 4 KiB) of stderr, decoded leniently.
    public var stderrTail: String
    public var duration: Duration
    /// The handler's pid (also its process group and session), when it started.
    public var processID: Int32?

    public init(
        termination: HandlerTermination, stdout: [UInt8] = [], stdoutBytes: Int? = nil, stderrTail: String = "",
        duration: Duration = .zero, processID: Int32? = nil
    ) {
        self.termination = termination
        self.stdout = stdout
        self.stdoutBytes = stdoutBytes ?? stdout.count
        self.stderrTail = stderrTail
        self.duration = duration
        self.processID = processID
    }

    /// Whether stdout went past `maxOutput` (`stdout` then holds only its start).
    public var stdoutOverflowed: Bool { stdoutBytes > stdout.count }
}
