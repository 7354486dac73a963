
/// Everything the outcome mapping needs to know about one run.
public struct HandlerRunResult: Sendable, Equatable {
    public var termination: HandlerTermination
    /// stdout, at most `maxOutput` bytes of it.
    public var stdout: [UInt8]
    /// How many bytes the handler wrote to stdout in all.
    public var stdoutBytes: Int
    /// The last bytes (up to 4 KiB) of stderr, decoded leniently.
    public var stderrTail: String
    /// How many stderr lines (or pieces of split lines) the rate limit kept out of the log
    /// (`LineRateLimiter.Policy.handlerStderr`); the tail has them all the same.
    public var stderrLinesDropped: Int
    public var duration: Duration
    /// The handler's pid (also its process group and session), when it started.
    public var processID: Int32?
    /// With `.launchFailed`: the errno, when one is known (EMFILE, EAGAIN… pause the polls).
    public var launchErrno: Int32?

    public init(
        termination: HandlerTermination, stdout: [UInt8] = [], stdoutBytes: Int? = nil, stderrTail: String = "",
        stderrLinesDropped: Int = 0, duration: Duration = .zero, processID: Int32? = nil, launchErrno: Int32? = nil
    ) {
        self.launchErrno = launchErrno
        self.termination = termination
        self.stdout = stdout
        self.stdoutBytes = stdoutBytes ?? stdout.count
        self.stderrTail = stderrTail
        self.stderrLinesDropped = stderrLinesDropped
        self.duration = duration
        self.processID = processID
    }

    /// Whether stdout went past `maxOutput` (`stdout` then holds only its start).
    public var stdoutOverflowed: Bool { stdoutBytes > stdout.count }
}
