public import StepFunctions

/// Where the ledger keeps its records: `LedgerJournal` (the state directory's journal). The
/// durable record calls are `async` and wait for the disk without holding a thread (the
/// journal's own thread does the disk work); the cleared ones return at once, their record
/// written promptly but waited for by nobody; `recover()` blocks, and `TaskLedger` runs it on
/// `BlockingIO`'s threads, never on Swift's cooperative pool. A protocol so tests can watch the
/// calls and fail them.
package protocol LedgerStorage: Sendable {
    /// Notes that the task is running, before its handler starts (durable).
    func recordStarted(token: TaskToken, activityArn: String) async throws
    /// Keeps `result` until `acknowledge` (durable) and clears the task's running record.
    func store(_ result: TaskResult, token: TaskToken, activityArn: String) async throws
    /// The service took the result (or said the token is dead): forget it. Returns at once;
    /// `failed` hears, later and on another thread, if the record could not be written. Need
    /// not be durable: a result a crash brings back is sent again and refused as finished.
    func acknowledge(token: TaskToken, failed: @escaping @Sendable (any Error) -> Void)
    /// The task ended with nothing to report: clear every record of it, as `acknowledge` does.
    func forget(token: TaskToken, failed: @escaping @Sendable (any Error) -> Void)
    /// Returns once every record asked for before it is written (a clean stop leaves a journal
    /// that holds only what is still to be sent).
    func flush() async
    /// At start: every task a previous run left running becomes a `Worker.Interrupted` result;
    /// returns every result waiting to be sent. Unreadable records are moved aside.
    func recover() throws -> LedgerRecovery
}

/// A result kept by an earlier run and not yet taken by the service.
public struct PendingResult: Sendable, Equatable {
    public var token: TaskToken
    public var activityArn: String
    public var result: TaskResult

    public init(token: TaskToken, activityArn: String, result: TaskResult) {
        self.token = token
        self.activityArn = activityArn
        self.result = result
    }
}

/// What `LedgerStorage.recover()` found.
package struct LedgerRecovery: Sendable {
    package var pending: [PendingResult]
    /// Records that could not be read, moved aside as `*.corrupt`.
    package var unreadable: [String]
    /// The journal, moved aside unread (not a regular file, or larger than the daemon can have
    /// written): what was there and where it went. Nil: it was read.
    package var journalMovedAside: String?

    package init(pending: [PendingResult], unreadable: [String], journalMovedAside: String? = nil) {
        self.pending = pending
        self.unreadable = unreadable
        self.journalMovedAside = journalMovedAside
    }
}
