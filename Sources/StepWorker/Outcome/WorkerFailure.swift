import StepFunctions

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
