/// The error names a state machine's `Retry`/`Catch` can match (DESIGN section 4).
public enum HandlerErrorName {
    public static let invalidOutput = "Handler.InvalidOutput"
    public static let outputTooLarge = "Handler.OutputTooLarge"
    public static let failed = "Handler.Failed"
    public static let killed = "Handler.Killed"
    public static let timeout = "Handler.Timeout"
    public static let launchFailed = "Handler.LaunchFailed"
    /// A warm handler's process died mid-task.
    public static let crashed = "Handler.Crashed"
}
