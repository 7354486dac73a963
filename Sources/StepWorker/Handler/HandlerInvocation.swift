public import Logging

/// One run of a handler, fully resolved: what to execute, with what, under which limits.
public struct HandlerInvocation: Sendable {
    /// The file to execute.
    public var executablePath: String
    /// argv, `argv[0]` included (as written in `command`).
    public var arguments: [String]
    /// The complete environment (see `HandlerEnvironment`); nothing else is inherited.
    public var environment: [String: String]
    public var workingDirectory: String?
    public var identity: HandlerIdentity?
    /// Written to stdin, then EOF.
    public var input: [UInt8]
    public var timeout: Duration?
    public var killGrace: Duration
    public var maxOutput: Int
    /// How long to keep reading pipes that something outside the group holds open after the
    /// group is gone.
    public var drainGrace: Duration = .seconds(1)
    /// Receives stderr lines; carries the task's metadata.
    public var logger: Logger
    /// The activity whose task this is (nil for a bare run): which handler protocol runs it, and
    /// for a warm (`lambda`) handler, its process pool and Runtime API headers.
    public var activity: ActivityConfiguration?
    /// The task's fingerprint (`STEPWORKER_TASK_ID`; a warm handler's request id).
    public var taskID: String?
    /// `worker.name`, for the environment of warm processes.
    public var workerName: String?
    /// The stderr rate limit a warm slot shares with the process it runs (a new budget per task
    /// it hands over); nil for a stdio handler, whose run has one of its own.
    var stderrGate: StderrLineGate?

    public init(
        executablePath: String, arguments: [String], environment: [String: String], workingDirectory: String?,
        identity: HandlerIdentity? = nil, input: [UInt8], timeout: Duration?, killGrace: Duration,
        maxOutput: Int, logger: Logger
    ) {
        self.executablePath = executablePath
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.identity = identity
        self.input = input
        self.timeout = timeout
        self.killGrace = killGrace
        self.maxOutput = maxOutput
        self.logger = logger
    }

    /// The invocation the daemon makes for a task of `activity`.
    public init(
        activity: ActivityConfiguration, workerName: String, taskID: String, input: [UInt8],
        logger: Logger, daemonEnvironment: [String: String], unixTime: Int64
    ) {
        let deadline = activity.timeout.map { timeout in
            unixTime + timeout.components.seconds + (timeout.components.attoseconds > 0 ? 1 : 0)
        }
        var logger = logger
        logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity.name)"
        logger[metadataKey: "STEPWORKER_TASK_ID"] = "\(taskID)"
        self.init(
            executablePath: activity.executablePath,
            arguments: activity.command,
            environment: HandlerEnvironment.build(
                activity: activity, workerName: workerName, taskID: taskID, deadline: deadline,
                daemonEnvironment: daemonEnvironment),
            workingDirectory: activity.workingDirectory,
            identity: activity.identity,
            input: input,
            timeout: activity.timeout,
            killGrace: activity.killGrace,
            maxOutput: activity.maxOutput,
            logger: logger)
        self.activity = activity
        self.taskID = taskID
        self.workerName = workerName
    }
}
