import StepFunctions
import StepWorker
import StepWorkerTestKit
import Testing

/// A success the service refuses (`ValidationException` on `SendTaskSuccess`) is sent again as
/// its `Handler.InvalidOutput` failure, and counted as what the service recorded: a failure.
@Suite(.timeLimit(.minutes(1)))
struct RefusedOutputTests {
    static let refusal = ScriptedActivityService.error(
        "ValidationException", for: .sendTaskSuccess, message: "Invalid output: not what the state machine takes")

    @Test func taskRunReportsTheInvalidOutputFailureThatWasSent() async throws {
        let h = ScriptedHarness()
        let activity = try h.activity()
        let run = h.taskRun(ledger: try h.ledger())
        h.service.answer(.sendTaskSuccess, with: Self.refusal)
        let task = h.task("refused")
        let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
        let handler = try #require(await h.runner.nextStarted())
        handler.exit(0, stdout: #"{"ok":true}"#)

        let settlement = try await running.value
        guard case .reported(.failure(let error, let cause)) = settlement else {
            Issue.record("settled as \(settlement), not as a reported failure")
            return
        }
        #expect(error == HandlerErrorName.invalidOutput)
        #expect(cause.contains("ValidationException"), "\(cause)")
        #expect(h.service.calls == [
            .succeeded(task.token, output: #"{"ok":true}"#),
            .failed(task.token, error: HandlerErrorName.invalidOutput, cause: cause),
        ])
    }

    @Test func thePoolAndTheMetricsCountItAsFailed() async throws {
        let h = ScriptedHarness()
        let pool = h.pool(try h.activity(), ledger: try h.ledger())
        h.service.answer(.sendTaskSuccess, with: Self.refusal)
        let running = Task { await pool.run() }
        let task = h.task("counted")
        h.service.enqueue(task, for: ScriptedHarness.arn)
        let handler = try #require(await h.runner.nextStarted())
        handler.exit(0, stdout: #"{"ok":true}"#)

        #expect(try await waitUntil { pool.counters.failed + pool.counters.succeeded == 1 })
        #expect(pool.counters.failed == 1)
        #expect(pool.counters.succeeded == 0)
        let lines = h.exposition
        #expect(lines.contains(#"stepworker_tasks_total{activity="scripted",outcome="failed"} 1"#), "\(lines)")
        #expect(lines.contains(#"stepworker_tasks_total{activity="scripted",outcome="succeeded"} 0"#))
        #expect(h.service.calls.contains { event in
            guard case .failed(let token, let error, _) = event else { return false }
            return token == task.token && error == HandlerErrorName.invalidOutput
        })
        await h.finish(pool, running: running)
    }
}
