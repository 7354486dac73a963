import StepFunctions
import StepWorker
import StepWorkerTestKit
import Systemd
import Testing

/// When things happen, on the test clock: heartbeats, result retries, poll backoff, and the
/// shutdown grace. Each step waits until the code is asleep, then moves time to just before its
/// deadline (nothing may happen: no sleeper is due) and then to it.
@Suite(.timeLimit(.minutes(1)))
struct TimeRulesTests {
    static func throttled(_ operation: ScriptedActivityService.Operation) -> StepFunctionsError {
        ScriptedActivityService.error("ThrottlingException", for: operation)
    }

    static func unavailable(_ operation: ScriptedActivityService.Operation) -> StepFunctionsError {
        ScriptedActivityService.error("ServiceUnavailable", for: operation)
    }

    @Test func heartbeatsGoOutOnScheduleAndATaskGoneStopsTheHandler() async throws {
        let h = ScriptedHarness()
        // Jitter 0.5 shortens each wait by 10%: a 10 s interval heartbeats every 9 s.
        let run = h.taskRun(ledger: try h.ledger(), jitter: FixedJitter(0.5))
        let activity = try h.activity(#"heartbeat = "10s""#)
        let task = h.task("heartbeats")
        let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
        let handler = try #require(await h.runner.nextStarted())

        for beat in 1...2 {
            #expect(await h.clock.sleeps.first(where: { _ in true }, timeout: .seconds(10)) == .seconds(9))
            h.clock.advance(by: .seconds(9) - .milliseconds(1))
            #expect(h.service.calls.count == beat - 1)
            if beat == 2 {
                h.service.answer(.sendTaskHeartbeat, with: ScriptedActivityService.error("TaskTimedOut", for: .sendTaskHeartbeat))
            }
            h.clock.advance(by: .milliseconds(1))
            #expect(await h.service.events.first(where: { $0 == .heartbeat(task.token) }, timeout: .seconds(10)) != nil)
        }

        let stop = try #require(await h.runner.nextTermination())
        #expect(stop.0 === handler)
        #expect(stop.1 == .taskGone)
        #expect(try await running.value == .gone)
        #expect(handler.stopReasons == [.taskGone])
        #expect(h.service.calls == [.heartbeat(task.token), .heartbeat(task.token)])  // no result sent
    }

    /// Starts `count` tasks of `activity` through `run` and returns them with their handlers once
    /// each task waits for its handler (its heartbeats are registered by then).
    static func startTasks(
        _ names: [String], activity: ActivityConfiguration, run: TaskRun, h: ScriptedHarness
    ) async throws -> [(task: ActivityTask, running: Task<TaskLedger.Settlement, any Error>, handler: ScriptedHandler)] {
        var started: [(ActivityTask, Task<TaskLedger.Settlement, any Error>, ScriptedHandler)] = []
        for name in names {
            let task = h.task(name)
            let running = Task { try await run.run(task, activity: activity, stop: HandlerStopSwitch()) }
            started.append((task, running, try #require(await h.runner.nextStarted())))
        }
        #expect(try await waitUntil { started.allSatisfy { $0.2.isAwaited } })
        return started
    }

    @Test func runningTasksShareOneHeartbeatTimerAndTheLastToEndCancelsIt() async throws {
        let h = ScriptedHarness()
        let run = h.taskRun(ledger: try h.ledger(), jitter: FixedJitter(0.5))
        let activity = try h.activity(#"heartbeat = "10s""#)
        let tasks = try await Self.startTasks((0..<8).map { "shared-\($0)" }, activity: activity, run: run, h: h)
        // Eight tasks, one timer: all are due 9 s from now.
        #expect(h.clock.pendingDeadlines == [.seconds(9)])
        h.clock.advance(by: .seconds(9))
        #expect(try await waitUntil { h.service.calls.count == 8 })
        for started in tasks { #expect(h.service.calls.contains(.heartbeat(started.task.token)), "\(started.task.token)") }
        // Answered, each is due again 9 s later: still one timer.
        #expect(try await waitUntil { h.clock.pendingDeadlines == [.seconds(9)] })
        for (index, started) in tasks.enumerated() {
            #expect(started.handler.exit(0, stdout: "{}"))
            #expect(try await started.running.value == .reported(.success(output: "{}")))
            // The timer outlives every task but the last.
            #expect(try await waitUntil { h.clock.pendingSleeps == (index == tasks.count - 1 ? 0 : 1) }, "after task \(index)")
        }
        #expect(h.service.calls.filter { if case .heartbeat = $0 { true } else { false } }.count == 8)
        #expect(h.exposition.contains(#"stepworker_heartbeats_total{activity="scripted",result="ok"} 8"#), "\(h.exposition.filter { $0.contains("heartbeat") })")
    }

    @Test func aTaskWithAShorterIntervalStartedLaterHeartbeatsFirst() async throws {
        let h = ScriptedHarness()
        let run = h.taskRun(ledger: try h.ledger(), jitter: FixedJitter(0.5))
        let slow = try await Self.startTasks(["slow"], activity: try h.activity(#"heartbeat = "60s""#), run: run, h: h)[0]
        #expect(h.clock.pendingDeadlines == [.seconds(54)])
        let fast = try await Self.startTasks(["fast"], activity: try h.activity(#"heartbeat = "10s""#), run: run, h: h)[0]
        // The timer is set again, for the earlier one (the cancelled sleep has left).
        #expect(try await waitUntil { h.clock.pendingDeadlines == [.seconds(9)] })
        h.clock.advance(by: .seconds(9))
        #expect(await h.service.events.first(where: { $0 == .heartbeat(fast.task.token) }, timeout: .seconds(10)) != nil)
        // The fast one is next due at 18 s, before the slow one's 54 s.
        #expect(try await waitUntil { h.clock.pendingDeadlines == [.seconds(9)] })
        h.clock.advance(by: .seconds(9))
        #expect(try await waitUntil { h.service.calls.count == 2 })
        #expect(h.service.calls == [.heartbeat(fast.task.token), .heartbeat(fast.task.token)])
        #expect(fast.handler.exit(0, stdout: "{}"))
        #expect(try await fast.running.value == .reported(.success(output: "{}")))
        // A task's end moves no timer (but the last one's): the one set for the fast task's next
        // heartbeat, at 27 s, goes off for nothing and is set for the slow one's, at 54 s.
        #expect(h.clock.pendingDeadlines == [.seconds(9)])
        h.clock.advance(by: .seconds(9))
        #expect(try await waitUntil { h.clock.pendingDeadlines == [.seconds(27)] })
        #expect(h.service.calls == [.heartbeat(fast.task.token), .heartbeat(fast.task.token), .succeeded(fast.task.token, output: "{}")])
        h.clock.advance(by: .seconds(27))
        #expect(await h.service.events.first(where: { $0 == .heartbeat(slow.task.token) }, timeout: .seconds(10)) != nil)
        #expect(slow.handler.exit(0, stdout: "{}"))
        #expect(try await slow.running.value == .reported(.success(output: "{}")))
        #expect(try await waitUntil { h.clock.pendingSleeps == 0 })
    }

    @Test func deliveryRetriesThrottlingWithThePolicysDelaysUntilItIsTaken() async throws {
        let h = ScriptedHarness()
        let policy = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(1), maxDelay: .seconds(3))
        let delivery = h.delivery(jitter: FixedJitter(0.5), backoff: policy)
        h.service.answer(.sendTaskSuccess, with: Self.throttled(.sendTaskSuccess), times: 4)
        let token = TaskToken("token-retried")
        let delivering = Task {
            try await delivery.deliver(.success(output: "{}"), token: token, activity: ScriptedHarness.activityName)
        }
        // Half of 1 s, 2 s, then the 3 s cap.
        let expected: [Duration] = [.milliseconds(500), .seconds(1), .milliseconds(1500), .milliseconds(1500)]
        for (retry, delay) in expected.enumerated() {
            #expect(await h.clock.sleeps.first(where: { _ in true }, timeout: .seconds(10)) == delay, "retry \(retry)")
            #expect(h.service.calls.count == retry + 1)
            h.clock.advance(by: delay - .milliseconds(1))
            #expect(h.service.calls.count == retry + 1)
            h.clock.advance(by: .milliseconds(1))
        }
        #expect(try await delivering.value == .delivered(.success(output: "{}")))
        #expect(h.service.calls == Array(repeating: .succeeded(token, output: "{}"), count: 5))
        #expect(h.clock.pendingSleeps == 0)
        #expect(h.exposition.contains(#"stepworker_result_retries_total{activity="scripted"} 4"#))
    }

    @Test func pollErrorsBackOffAndASuccessfulPollResetsTheBackoff() async throws {
        let h = ScriptedHarness()
        let backoff = PollBackoff()
        let pool = h.pool(try h.activity(), ledger: try h.ledger(), backoff: backoff, jitter: FixedJitter(0.5))
        let arn = ScriptedHarness.arn
        for _ in 0..<3 { h.service.enqueue(failure: Self.unavailable(.getActivityTask), for: arn) }
        h.service.enqueue(nil, for: arn)  // an empty poll: a success
        h.service.enqueue(failure: Self.unavailable(.getActivityTask), for: arn)
        let running = Task { await pool.run() }

        // The failure count goes 1, 2, 3, then starts again at 1 after the empty poll.
        let failures = [1, 2, 3, 1]
        let expected = failures.map { backoff.delay(after: Self.unavailable(.getActivityTask), failures: $0, unitRandom: 0.5) }
        // A tenth of the 200 ms, 400 ms, 800 ms ceilings plus 90% of half of it.
        let approximate: [Duration] = [.milliseconds(110), .milliseconds(220), .milliseconds(440), .milliseconds(110)]
        for (delay, roughly) in zip(expected, approximate) {
            #expect(abs((delay - roughly) / .microseconds(1)) < 1, "\(delay)")
        }
        var polls = 0
        for (step, delay) in expected.enumerated() {
            #expect(await h.clock.sleeps.first(where: { _ in true }, timeout: .seconds(10)) == delay, "step \(step)")
            polls = h.service.calls.count
            h.clock.advance(by: delay - .milliseconds(1))
            #expect(h.service.calls.count == polls)
            if step < expected.count - 1 { h.clock.advance(by: .milliseconds(1)) }
        }
        #expect(pool.counters.pollErrors == 4)
        #expect(pool.counters.pollsCompleted == 1)
        // Draining wakes the poller from its backoff at once.
        await h.finish(pool, running: running)
        #expect(h.clock.pendingSleeps == 0)
        #expect(h.service.calls.count == polls)
    }

    @Test func aThrottledPollBacksOffBrieflyForTheSharedLimiterPacesPolls() {
        let backoff = PollBackoff()
        let throttled = Self.throttled(.getActivityTask)
        // 20 ms, 40 ms, ... up to 1 s: the limiter, not each poller, holds polls to the budget.
        #expect(backoff.delay(after: throttled, failures: 1, unitRandom: 0.5) == .milliseconds(11))
        #expect(backoff.delay(after: throttled, failures: 20, unitRandom: 1) == .seconds(1))
        #expect(backoff.delay(after: Self.unavailable(.getActivityTask), failures: 1, unitRandom: 0.5) == .milliseconds(110))
    }
}
