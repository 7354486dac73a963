import StepFunctions

/// One entry of the ledger journal (`LedgerJournal`): a task started, a task's result kept, or a
/// task done with. A task's state is the last of its entries (`LedgerState`). Records carry the
/// `TaskToken`, so its fingerprint is hashed once per task, not again for every record folded.
enum JournalRecord: Equatable, Sendable {
    /// The task was received; its handler has not necessarily started.
    case started(token: TaskToken, activityArn: String)
    /// The task's result, kept until the service takes it.
    case result(token: TaskToken, activityArn: String, TaskResult)
    /// The service took the result, or the task is gone: nothing more to keep. Named by the
    /// token's fingerprint (the token itself is not needed any more).
    case cleared(fingerprint: String)

    var fingerprint: String {
        switch self {
        case .started(let token, _), .result(let token, _, _): token.fingerprint
        case .cleared(let fingerprint): fingerprint
        }
    }
}
