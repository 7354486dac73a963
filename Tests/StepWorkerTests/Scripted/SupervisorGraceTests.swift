import StepFunctions
import StepWorker
import StepWorkerTestKit
import Systemd
import Testing

/// Shutdown on the test clock: a handler still running when `shutdown_grace` has passed is
/// stopped then, not a moment before, and its task fails with `Worker.ShuttingDown`.
@Suite(.timeLimit(.minutes(1)))
struct SupervisorGraceTests {
    @Test func aRunningHandlerIsStoppedExactlyWhenTheGraceHasPassed() async throws {
        let h = ScriptedHarness()
        let configuration = try h.configuration(worker: #"shutdown_grace = "5s""#)
        let notifier = RecordingNotifier()
        let supervisor = try Supervisor(
            configuration: configuration, service: h.service, runner: h.runner, notifier: notifier, clock: h.clock,
            watchdogTimeout: nil, daemonEnvironment: [:], statusInterval: .seconds(3600), extendInterval: .seconds(10),
            deliveryAllowance: .seconds(90), logger: h.log.logger())
        let running = Task { await supervisor.run() }
        let task = h.task("outlives-the-grace")
        h.service.enqueue(task, for: ScriptedHarness.arn)
        let handler = try #require(await h.runner.nextStarted())
        #expect(try await waitUntil { notifier.assignments.contains("READY=1") })

        supervisor.stop()
        #expect(await h.clock.sleeps.first(where: { $0 == .seconds(5) }, timeout: .seconds(10)) != nil)
        h.clock.advance(by: .seconds(5) - .milliseconds(1))
        #expect(handler.stopReasons.isEmpty)
        #expect(handler.finishedResult == nil)
        h.clock.advance(by: .milliseconds(1))

        let stop = try #require(await h.runner.nextTermination())
        #expect(stop.0 === handler)
        #expect(stop.1 == .shutdownGrace)
        await running.value
        #expect(h.service.calls.last == .failed(
            task.token, error: WorkerFailure.shuttingDownName,
            cause: "the worker stopped while the handler ran (shutdown_grace ran out)"))
        #expect(supervisor.counters.failed == 1)
        #expect(notifier.assignments.contains("STOPPING=1"))
    }
}
