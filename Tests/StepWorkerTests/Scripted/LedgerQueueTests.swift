import Dispatch
import Glibc
import Logging
import StepFunctions
import StepWorkerTestKit
import Synchronization
import Testing

@testable import StepWorker

/// Every path a task takes goes through the ledger, the drain refusal included. The record calls
/// are `async` and the journal does their disk work on its own thread (`JournalCommitter`);
/// recovery, which blocks, runs on `BlockingIO`'s queue ("stepworker.ledger-io"), never on the
/// cooperative pool.
@Suite(.timeLimit(.minutes(1)))
struct LedgerQueueTests {
    static let ledgerQueue = "stepworker.ledger-io"

    /// `dispatch_queue_get_label(DISPATCH_CURRENT_QUEUE_LABEL)`: the Dispatch module on Linux
    /// does not export it (nor Darwin's `__dispatch_queue_get_label`), libdispatch does.
    static let currentQueueLabel: @convention(c) (OpaquePointer?) -> UnsafePointer<CChar> = unsafeBitCast(
        dlsym(nil, "dispatch_queue_get_label"), to: (@convention(c) (OpaquePointer?) -> UnsafePointer<CChar>).self)

    /// `LedgerJournal`, noting the queue each call runs on (`LedgerStorage` is internal: hence
    /// `@testable`).
    final class QueueRecordingStorage: LedgerStorage {
        struct Call: Sendable, Equatable {
            var name: String
            var token: TaskToken?
            var queue: String
        }

        let files: LedgerJournal
        /// When set, every call fails as a full disk would, after it was noted.
        let failing: Bool
        private let recorded = Mutex<[Call]>([])

        init(_ files: LedgerJournal, failing: Bool = false) {
            self.files = files
            self.failing = failing
        }

        var calls: [Call] { recorded.withLock { $0 } }

        func calls(of token: TaskToken) -> [Call] { calls.filter { $0.token == token } }

        private func note(_ name: String, _ token: TaskToken?) {
            let queue = String(cString: LedgerQueueTests.currentQueueLabel(nil))
            recorded.withLock { $0.append(Call(name: name, token: token, queue: queue)) }
        }

        private func fail(_ name: String) throws {
            if failing { throw DurableFileError(operation: name, path: files.journalPath, errno: ENOSPC) }
        }

        func recordStarted(token: TaskToken, activityArn: String) async throws {
            note("recordStarted", token)
            try fail("recordStarted")
            try await files.recordStarted(token: token, activityArn: activityArn)
        }

        func store(_ result: TaskResult, token: TaskToken, activityArn: String) async throws {
            note("store", token)
            try fail("store")
            try await files.store(result, token: token, activityArn: activityArn)
        }

        func acknowledge(token: TaskToken, failed: @escaping @Sendable (any Error) -> Void) {
            note("acknowledge", token)
            do { try fail("acknowledge") } catch { return failed(error) }
            files.acknowledge(token: token, failed: failed)
        }

        func forget(token: TaskToken, failed: @escaping @Sendable (any Error) -> Void) {
            note("forget", token)
            do { try fail("forget") } catch { return failed(error) }
            files.forget(token: token, failed: failed)
        }

        func flush() async {
            note("flush", nil)
            await files.flush()
        }

        func recover() throws -> LedgerRecovery {
            note("recover", nil)
            return try files.recover()
        }
    }

    func recordingLedger(_ h: ScriptedHarness, failing: Bool = false) throws -> (TaskLedger, QueueRecordingStorage) {
        let storage = QueueRecordingStorage(try LedgerJournal(stateDirectory: h.stateDirectory), failing: failing)
        return (TaskLedger(storage: storage, delivery: h.delivery(), metrics: h.metrics), storage)
    }

    @Test func theDrainRefusalGoesThroughTheLedger() async throws {
        let h = ScriptedHarness()
        let (ledger, storage) = try recordingLedger(h)
        let pool = h.pool(try h.activity(), ledger: ledger)
        let running = Task { await pool.run() }
        #expect(await h.nextPoll())
        pool.drain()
        // The open poll was not aborted; the task it brings now arrives during drain.
        let task = h.task("late")
        h.service.enqueue(task, for: ScriptedHarness.arn)
        await running.value

        let calls = storage.calls(of: task.token)
        #expect(calls.map(\.name) == ["store", "acknowledge"])
        #expect(h.service.calls.last == .failed(
            task.token, error: WorkerFailure.shuttingDownName, cause: "the worker is shutting down"))
        #expect(h.runner.handlers.isEmpty)
        #expect(pool.counters.failed == 1)
        #expect(h.exposition.contains(#"stepworker_tasks_total{activity="scripted",outcome="refused"} 1"#))
    }

    @Test func aTaskThatRanGoesThroughTheLedgerAndRecoveryRunsOnItsQueue() async throws {
        let h = ScriptedHarness()
        let (ledger, storage) = try recordingLedger(h)
        let run = h.taskRun(ledger: ledger)
        let task = h.task("ran")
        let activity = try h.activity()
        let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
        let handler = try #require(await h.runner.nextStarted())
        handler.exit(0, stdout: "{}")
        #expect(try await running.value == .reported(.success(output: "{}")))

        let calls = storage.calls(of: task.token)
        #expect(calls.map(\.name) == ["recordStarted", "store", "acknowledge"])
        #expect(await ledger.recover(logger: h.log.logger()).isEmpty)
        let recovery = storage.calls.filter { $0.name == "recover" }
        #expect(recovery.count == 1 && recovery.allSatisfy { $0.queue == Self.ledgerQueue }, "\(recovery)")
    }

    /// A disk that refuses every write (ENOSPC) never fails a task: the handler runs, the result
    /// is sent without crash protection, and each lost guarantee is logged as an error.
    @Test func aFullDiskCostsCrashProtectionNotTheTask() async throws {
        let h = ScriptedHarness()
        let (ledger, storage) = try recordingLedger(h, failing: true)
        let run = h.taskRun(ledger: ledger)
        let task = h.task("full-disk")
        let activity = try h.activity()
        let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
        let handler = try #require(await h.runner.nextStarted())
        handler.exit(0, stdout: #"{"kept":false}"#)
        #expect(try await running.value == .reported(.success(output: #"{"kept":false}"#)))
        #expect(h.service.calls.last == .succeeded(task.token, output: #"{"kept":false}"#))
        #expect(storage.calls(of: task.token).map(\.name) == ["recordStarted", "store", "acknowledge"])
        let errors = h.log.all.filter { $0.level == .error }.map(\.message)
        #expect(errors == [
            "Could not journal the task; running it without crash protection",
            "Could not keep the result; delivering it without crash protection",
            "Could not remove a settled result from the ledger",
        ], "\(errors)")
        #expect(h.log.all.filter { $0.level == .error }.allSatisfy { $0.metadata["error"]?.contains("No space left on device") == true })
    }
}
