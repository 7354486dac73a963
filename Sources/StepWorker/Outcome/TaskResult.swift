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
