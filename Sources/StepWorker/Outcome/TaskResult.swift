import StepFunctions

/// What goes back to Step Functions for a task: `SendTaskSuccess` or `SendTaskFailure`.
/// Values are already inside the service's limits.
public enum TaskResult: Sendable, Equatable {
    /// `output` is JSON text.
    case success(output: String)
    case failure(error: String, cause: String)

    /// A failure with `error` cut to 256 and `cause` to 32,768 characters.
    public static func failing(_ error: String, _ cause: String) -> TaskResult {
        .failure(
            error: TaskLimits.truncating(error, toCharacters: TaskLimits.maxErrorCharacters),
            cause: TaskLimits.truncating(cause, toCharacters: TaskLimits.maxCauseCharacters))
    }
}

/// The error names a state machine's `Retry`/`Catch` can match (DESIGN section 4).
public enum HandlerErrorName {
    public static let invalidOutput = "Handler.InvalidOutput"
    public static let outputTooLarge = "Handler.OutputTooLarge"
    public static let failed = "Handler.Failed"
    public static let killed = "Handler.Killed"
    public static let timeout = "Handler.Timeout"
    public static let launchFailed = "Handler.LaunchFailed"
}

/// Failures the worker reports on its own behalf.
public enum WorkerFailure {
    public static let shuttingDownName = "Worker.ShuttingDown"
    public static let interruptedName = "Worker.Interrupted"

    /// A task that arrived during drain, or whose handler outlived `shutdown_grace`.
    public static func shuttingDown(_ cause: String = "the worker is shutting down") -> TaskResult {
        .failing(shuttingDownName, cause)
    }

    /// A task left unfinished by a worker that crashed or was killed.
    public static func interrupted(_ cause: String = "the worker restarted with this task unfinished") -> TaskResult {
        .failing(interruptedName, cause)
    }
}
