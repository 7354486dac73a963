import StepFunctions
import StepWorker
import StepWorkerTestKit
import Systemd
import Testing

/// One "Task finished" journal entry per task (docs/systemd.md), whatever way the task ended,
/// with the fields `journalctl MESSAGE_ID=… STEPWORKER_OUTCOME=…` selects on.
@Suite(.timeLimit(.minutes(1)))
struct TaskJournalEntryTests {
    /// Exactly one entry, for `task`, with these fields.
    func expectOneEntry(
        _ h: ScriptedHarness, for task: ActivityTask, outcome: String, error: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let entries = h.finishedEntries
        #expect(entries.count == 1, "\(entries)", sourceLocation: sourceLocation)
        guard let entry = entries.first else { return }
        let fields = entry.metadata
        #expect(fields[JournalMessageID.metadataKey] == JournalMessageID.taskOutcome, sourceLocation: sourceLocation)
        #expect(fields["STEPWORKER_OUTCOME"] == outcome, "\(fields)", sourceLocation: sourceLocation)
        #expect(fields["STEPWORKER_ERROR"] == error, "\(fields)", sourceLocation: sourceLocation)
        #expect(fields["STEPWORKER_DURATION_MS"].flatMap { Int($0) } != nil, "\(fields)", sourceLocation: sourceLocation)
        #expect(fields["STEPWORKER_ACTIVITY"] == ScriptedHarness.activityName, sourceLocation: sourceLocation)
        #expect(fields["STEPWORKER_TASK_ID"] == task.token.fingerprint, sourceLocation: sourceLocation)
    }

    /// Runs one task whose handler ends with `end`.
    func run(_ h: ScriptedHarness, _ task: ActivityTask, end: (ScriptedHandler) -> Void) async throws -> TaskLedger.Settlement {
        let run = h.taskRun(ledger: try h.ledger())
        let activity = try h.activity()
        let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
        end(try #require(await h.runner.nextStarted()))
        return try await running.value
    }

    @Test func aSuccess() async throws {
        let h = ScriptedHarness()
        let task = h.task("success")
        #expect(try await run(h, task) { $0.exit(0, stdout: #"{"done":1}"#) } == .reported(.success(output: #"{"done":1}"#)))
        expectOneEntry(h, for: task, outcome: "succeeded", error: nil)
    }

    @Test func aFailure() async throws {
        let h = ScriptedHarness()
        let task = h.task("failure")
        _ = try await run(h, task) { $0.exit(3, stderr: "no such image") }
        expectOneEntry(h, for: task, outcome: "failed", error: HandlerErrorName.failed)
    }

    @Test func aTaskGoneByHeartbeat() async throws {
        let h = ScriptedHarness()
        let task = h.task("gone")
        let run = h.taskRun(ledger: try h.ledger())
        let activity = try h.activity(#"heartbeat = "10s""#)
        h.service.answer(.sendTaskHeartbeat, with: ScriptedActivityService.error("TaskTimedOut", for: .sendTaskHeartbeat))
        let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
        #expect(await h.runner.nextStarted() != nil)
        #expect(await h.clock.sleeps.first(where: { _ in true }, timeout: .seconds(10)) == .seconds(10))
        h.clock.advance(by: .seconds(10))
        #expect(try await running.value == .gone)
        expectOneEntry(h, for: task, outcome: "gone", error: nil)
    }

    @Test func aDrainRefusal() async throws {
        let h = ScriptedHarness()
        let pool = h.pool(try h.activity(), ledger: try h.ledger())
        let running = Task { await pool.run() }
        #expect(await h.nextPoll())
        pool.drain()
        let task = h.task("refused")
        h.service.enqueue(task, for: ScriptedHarness.arn)
        await running.value
        expectOneEntry(h, for: task, outcome: "failed", error: WorkerFailure.shuttingDownName)
    }
}
