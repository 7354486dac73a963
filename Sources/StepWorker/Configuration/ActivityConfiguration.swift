/// One `[[activity]]`.
public struct ActivityConfiguration: Sendable, Equatable {
    public var arn: ActivityARN
    /// Unique; defaults to the ARN's last component.
    public var name: String
    /// argv, as written; `command[0]` may be a bare name, found on the handler's PATH.
    public var command: [String]
    /// `command[0]` resolved to the file that will run.
    public var executablePath: String
    public var concurrency: Int
    public var pollers: Int
    /// nil: no limit.
    public var timeout: Duration?
    public var killGrace: Duration
    /// nil: no heartbeats (`heartbeat = "0s"`).
    public var heartbeat: Duration?
    public var workingDirectory: String
    /// nil: run as the daemon's own user.
    public var identity: HandlerIdentity?
    /// Added to the handler's clean environment.
    public var environment: [String: String]
    public var output: OutputMode
    public var maxOutput: Int
    /// Exit status -> error name.
    public var exitCodes: [Int32: String]
    /// `protocol`: one process per task (`stdio`), or warm processes that speak the Lambda
    /// Runtime API (`lambda`, docs/handlers.md).
    public var handlerProtocol: HandlerProtocol = .stdio
    /// `max_tasks_per_process` (`lambda` only): a warm process is replaced after this many
    /// tasks; nil = never.
    public var maxTasksPerProcess: Int? = nil
}
