#if canImport(Glibc)
import Glibc
#endif
import StepFunctions
import StepWorker
import StepWorkerTestKit
import Testing

/// A daemon that cannot start handlers (descriptors, processes) stops taking tasks for a while
/// instead of failing every task it receives: on the test clock, no poll opens before the pause
/// has run out.
@Suite(.timeLimit(.minutes(1)))
struct LaunchPauseTests {
    @Test func aStartThatFailsForWantOfDescriptorsHoldsThePollerBackForThePause() async throws {
        let h = ScriptedHarness()
        let clock = h.clock
        let pause = LaunchPause(now: { clock.now.offset })
        let run = TaskRun(
            service: h.service, runner: h.runner, ledger: try h.ledger(), clock: h.clock, jitter: FixedJitter(0),
            workerName: "scripted-worker", daemonEnvironment: [:], logger: h.log.logger(), metrics: h.metrics, launchPause: pause)
        let pool = ActivityPool(
            activity: try h.activity(), service: h.service, taskRun: run, workerName: "scripted-worker", clock: h.clock,
            jitter: FixedJitter(0), logger: h.log.logger())
        let task = h.task("starved")
        h.service.enqueue(task, for: ScriptedHarness.arn)
        let running = Task { await pool.run() }

        let handler = try #require(await h.runner.nextStarted())
        #expect(handler.finish(HandlerRunResult(termination: .launchFailed("pipe: Too many open files"), launchErrno: EMFILE)))
        let failed = await h.service.events.first(where: { if case .failed = $0 { true } else { false } }, timeout: .seconds(10))
        #expect(failed == .failed(task.token, error: "Handler.LaunchFailed", cause: "pipe: Too many open files"))
        #expect(h.log.messages.contains("Cannot start handlers; not taking tasks for a while"))

        // The poller waits out the pause (1 s) before it polls again.
        #expect(await clock.sleeps.first(where: { $0 == .seconds(1) }, timeout: .seconds(10)) != nil)
        let pollsBefore = h.service.calls.filter { if case .polled = $0 { true } else { false } }.count
        #expect(pollsBefore == 1)
        clock.advance(by: .seconds(1) - .milliseconds(1))
        #expect(pool.counters.waitingForHandler == 1, "a paused poller is not a stalled one")
        #expect(pause.remaining == .milliseconds(1))
        #expect(h.service.waitingPolls == 0)
        clock.advance(by: .milliseconds(1))
        #expect(await h.service.events.first(where: { $0 == .polled(activityArn: ScriptedHarness.arn) }, timeout: .seconds(10)) != nil)

        pool.drain()
        h.service.endPolls()
        await running.value
    }
}
