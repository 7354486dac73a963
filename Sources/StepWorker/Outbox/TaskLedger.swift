public import Logging
import POSIXSupport
public import StepFunctions
import Systemd

/// The worker's promise that no result is lost (DESIGN section 5), in one owner: the in-flight
/// record of a running task, the kept result, its delivery, its removal, and recovery at start.
/// Every way a task ends goes through `settle(_:…)`, which keeps the result on disk (synced)
/// before the first send, delivers it, clears it once the service answered for good, and logs
/// the task's one outcome entry (`MESSAGE_ID` = `JournalMessageID.taskOutcome`).
///
/// The disk work runs on the journal's thread (records) or `BlockingIO`'s (recovery), so no
/// caller can put an fsync on Swift's cooperative pool. A disk error never fails a task: the task runs, and its
/// result is sent, without crash protection, and the error is logged.
public struct TaskLedger: Sendable {
    /// How a task ended, as the service recorded it.
    public enum Settlement: Sendable, Equatable {
        /// The service took this result (a refused success comes back as the
        /// `Handler.InvalidOutput` failure that was sent in its place).
        case reported(TaskResult)
        /// The service said the task is gone, or it was gone before anything was sent.
        case gone
        /// The service refused this failure report; it was dropped, and logged.
        case dropped(TaskResult, reason: String)
    }

    let storage: any LedgerStorage
    let delivery: ResultDelivery
    let metrics: WorkerMetrics

    /// Uses (and creates) the journal `ledger.journal` under `stateDirectory` (`LedgerJournal`),
    /// for `concurrency` tasks at once (every activity's), which bounds the journal's size.
    /// `stop`, asked while the journal is read, gives up (ECANCELED): a SIGTERM during the start.
    public init(
        stateDirectory: String, concurrency: Int = 1, delivery: ResultDelivery, metrics: WorkerMetrics = WorkerMetrics(),
        stop: () -> Bool = { false }
    ) throws(DurableFileError) {
        let maxSize = LedgerJournal.maxSize(concurrency: concurrency)
        let journal = try LedgerJournal(stateDirectory: stateDirectory, maxSize: maxSize, stop: stop)
        self.init(storage: journal, delivery: delivery, metrics: metrics)
    }

    package init(storage: any LedgerStorage, delivery: ResultDelivery, metrics: WorkerMetrics = WorkerMetrics()) {
        self.storage = storage
        self.delivery = delivery
        self.metrics = metrics
    }

    /// Journals a received task before its handler starts, so a crash turns it into
    /// `Worker.Interrupted` at the next start. `logger` carries the task's fields.
    public func begin(_ token: TaskToken, activityArn: String, logger: Logger) async {
        let storage = self.storage
        do {
            try await storage.recordStarted(token: token, activityArn: activityArn)
        } catch {
            logger.error("Could not journal the task; running it without crash protection", metadata: ["error": "\(error)"])
        }
    }

    /// Ends a task: keeps its result (durably) and delivers it, or forgets the task. Throws only
    /// `CancellationError`, when the delivery was cancelled: the result then stays on disk for
    /// the next start. `started` is when the task was received (for `STEPWORKER_DURATION_MS`);
    /// `stderrLinesDropped`, how many of its handler's stderr lines the rate limit kept out of
    /// the log (`STEPWORKER_STDERR_DROPPED`).
    public func settle(
        _ fate: TaskFate, token: TaskToken, activity: ActivityConfiguration, started: ContinuousClock.Instant,
        stderrLinesDropped: Int = 0, logger: Logger
    ) async throws -> Settlement {
        let storage = self.storage
        let arn = activity.arn.description
        guard case .report(let result) = fate else {
            storage.forget(token: token, failed: Self.logFailure(logger, "Could not clear the task from the ledger"))
            Self.logFinished(.gone, started: started, stderrLinesDropped: stderrLinesDropped, logger: logger)
            return .gone
        }
        await io(logger, "Could not keep the result; delivering it without crash protection") {
            try await storage.store(result, token: token, activityArn: arn)
        }
        let settlement = try await deliver(result, token: token, activity: activity.name, logger: logger)
        Self.logFinished(settlement, started: started, stderrLinesDropped: stderrLinesDropped, logger: logger)
        return settlement
    }

    /// At start: every task a previous run left running becomes `Worker.Interrupted`
    /// (`TaskFate.interruptedByRestart`); returns every result waiting to be sent, for `resume`.
    public func recover(logger: Logger) async -> [PendingResult] {
        let storage = self.storage
        do {
            let found = try await BlockingIO.run { try storage.recover() }
            if let movedAside = found.journalMovedAside {
                logger.error("Ledger journal moved aside unread; results it held are not delivered", metadata: ["file": "\(movedAside)"])
            }
            for file in found.unreadable {
                logger.error("Unreadable ledger record moved aside", metadata: ["file": "\(file)"])
            }
            if !found.pending.isEmpty {
                logger.notice("Delivering results left by a previous run", metadata: ["count": "\(found.pending.count)"])
            }
            return found.pending
        } catch {
            logger.error("Cannot read the ledger; results left by a previous run wait for the next start", metadata: [
                "error": "\(error)",
            ])
            return []
        }
    }

    /// Delivers a result a previous run kept (already on disk). `activity` is the name its ARN has now.
    public func resume(_ pending: PendingResult, activity: String, logger: Logger) async throws -> Settlement {
        var logger = logger
        logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity)"
        logger[metadataKey: "STEPWORKER_TASK_ID"] = "\(pending.token.fingerprint)"
        let settlement = try await deliver(pending.result, token: pending.token, activity: activity, logger: logger)
        Self.logFinished(settlement, started: nil, logger: logger)
        return settlement
    }

    private func deliver(_ result: TaskResult, token: TaskToken, activity: String, logger: Logger) async throws -> Settlement {
        metrics.deliveryStarted()
        defer { metrics.deliveryEnded() }
        let outcome = try await delivery.deliver(result, token: token, activity: activity, logger: logger)
        let storage = self.storage
        storage.acknowledge(token: token, failed: Self.logFailure(logger, "Could not remove a settled result from the ledger"))
        switch outcome {
        case .delivered(let sent): return .reported(sent)
        case .taskGone: return .gone
        case .refused(let sent, let reason): return .dropped(sent, reason: reason)
        }
    }

    private func io(_ logger: Logger, _ message: Logger.Message, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            logger.error(message, metadata: ["error": "\(error)"])
        }
    }

    /// What a cleared record's failure, heard later on the journal's thread, does: log it.
    private static func logFailure(_ logger: Logger, _ message: Logger.Message) -> @Sendable (any Error) -> Void {
        { error in logger.error(message, metadata: ["error": "\(error)"]) }
    }

    /// Waits until every record asked for is written: the clean stop's last step, so the
    /// journal it leaves holds only what is still to be sent.
    public func flush() async {
        await storage.flush()
    }

    /// The one journal entry per finished task: `journalctl MESSAGE_ID=74cec274… STEPWORKER_OUTCOME=failed`.
    static func logFinished(
        _ settlement: Settlement, started: ContinuousClock.Instant?, stderrLinesDropped: Int = 0, logger: Logger
    ) {
        var metadata: Logger.Metadata = [JournalMessageID.metadataKey: "\(JournalMessageID.taskOutcome)"]
        switch settlement {
        case .reported(.success):
            metadata["STEPWORKER_OUTCOME"] = "succeeded"
        case .reported(.failure(let error, _)), .dropped(.failure(let error, _), _):
            metadata["STEPWORKER_OUTCOME"] = "failed"
            metadata["STEPWORKER_ERROR"] = "\(error)"
        case .dropped(.success, _):
            metadata["STEPWORKER_OUTCOME"] = "failed"
        case .gone:
            metadata["STEPWORKER_OUTCOME"] = "gone"
        }
        if let started {
            metadata["STEPWORKER_DURATION_MS"] = "\((ContinuousClock.now - started).milliseconds)"
        }
        if stderrLinesDropped > 0 { metadata["STEPWORKER_STDERR_DROPPED"] = "\(stderrLinesDropped)" }
        logger.info("Task finished", metadata: metadata)
    }
}
