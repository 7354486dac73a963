import StepFunctions
import StepWorkerTestKit
import Synchronization
import Testing

/// The limiter's gates, driven by a test clock: who waits, in which order they go, and that
/// waiting ends with cancellation.
@Suite(.timeLimit(.minutes(1)))
struct AdaptiveRateLimiterTests {
    final class Recorder: RateLimiterObserver, Sendable {
        let events = Mutex<[String]>([])
        let order = Mutex<[String]>([])
        func sent(_ api: RateLimitedAPI) { events.withLock { $0.append("sent \(api.rawValue)") } }
        func throttled(_ api: RateLimitedAPI) { events.withLock { $0.append("throttled \(api.rawValue)") } }
        func delayed(_ api: RateLimitedAPI) { events.withLock { $0.append("delayed \(api.rawValue)") } }
        func limitChanged(_ api: RateLimitedAPI, to callsPerSecond: Double?) {}
        func count(_ event: String) -> Int { events.withLock { $0.filter { $0 == event }.count } }
        func went(_ label: String) { order.withLock { $0.append(label) } }
        var wentOrder: [String] { order.withLock { $0 } }
        func count(went label: String) -> Int { order.withLock { $0.filter { $0 == label }.count } }
        var pollWent: Bool { order.withLock { $0.contains { $0.hasPrefix("poll") } } }
    }

    /// Answers of `api` at 4/s for five seconds, then a throttle: the limit is then about 2.8/s.
    static func throttle(_ api: RateLimitedAPI, _ limiter: AdaptiveRateLimiter, _ clock: StepWorkerTestKit.TestClock) throws -> Double {
        for _ in 0..<20 {
            clock.advance(by: .milliseconds(250))
            limiter.afterResponse(api, throttled: false)
        }
        #expect(limiter.limit(api) == nil, "no limit before a throttle")
        limiter.afterResponse(api, throttled: true)
        return try #require(limiter.limit(api))
    }

    @Test func withoutAThrottleNothingWaits() async throws {
        let recorder = Recorder()
        let limiter = AdaptiveRateLimiter(clock: StepWorkerTestKit.TestClock(), observer: recorder)
        for _ in 0..<100 { try await limiter.beforeSend(.getActivityTask) }
        #expect(recorder.count("sent GetActivityTask") == 100)
        #expect(recorder.count("delayed GetActivityTask") == 0)
    }

    @Test func heartbeatsThatFindTheBudgetEmptyGoNearestDeadlineFirst() async throws {
        let clock = StepWorkerTestKit.TestClock()
        let recorder = Recorder()
        let limiter = AdaptiveRateLimiter(clock: clock, observer: recorder)
        let limit = try Self.throttle(.sendTaskHeartbeat, limiter, clock)
        #expect(limit > 2 && limit < 3.5)
        try await limiter.beforeSend(.sendTaskHeartbeat)  // the token a throttle leaves for the next call
        let now = limiter.now
        try await withThrowingTaskGroup { group in
            for (label, deadline) in [("late", 9), ("early", 1), ("middle", 4)] {
                group.addTask {
                    try await limiter.beforeSend(.sendTaskHeartbeat, priority: .heartbeat(deadline: now + .seconds(deadline)))
                    recorder.went(label)
                }
                #expect(try await waitUntil { limiter.waiting(.sendTaskHeartbeat) == [("late", 9), ("early", 1), ("middle", 4)].firstIndex { $0.0 == label }! + 1 })
            }
            for expected in 1...3 {
                clock.advance(by: .seconds(1.0 / limit))
                #expect(try await waitUntil { recorder.wentOrder.count == expected })
            }
            try await group.waitForAll()
        }
        #expect(recorder.wentOrder == ["early", "middle", "late"])
        #expect(recorder.count("delayed SendTaskHeartbeat") == 3)
    }

    @Test func aPollWaitsWhileMoreResultsWaitThanTheirBudgetLetsGoInASecond() async throws {
        let clock = StepWorkerTestKit.TestClock()
        let recorder = Recorder()
        let limiter = AdaptiveRateLimiter(clock: clock, observer: recorder, pollRecheck: .milliseconds(10))
        let limit = try Self.throttle(.sendTaskSuccess, limiter, clock)
        #expect(limit > 2 && limit < 3, "three waiting results are more than a second's worth")
        try await limiter.beforeSend(.sendTaskSuccess)
        var tasks: [Task<Void, any Error>] = []
        for n in 1...3 {
            tasks.append(Task {
                try await limiter.beforeSend(.sendTaskSuccess)
                recorder.went("result")
            })
            #expect(try await waitUntil { limiter.waiting(.sendTaskSuccess) == n })
        }
        tasks.append(Task {
            try await limiter.beforeSend(.getActivityTask)
            let waiting = limiter.waiting(.sendTaskSuccess)
            recorder.went("poll, \(waiting) results waiting")
        })
        // The poll's own budget is open, yet it holds back while the results are backed up.
        #expect(try await waitUntil { clock.pendingSleeps == 2 })
        clock.advance(by: .milliseconds(50))
        #expect(try await waitUntil { clock.pendingSleeps == 2 })
        #expect(recorder.wentOrder.isEmpty)
        // One result goes: two left, less than a second's worth, so the poll goes at its next look.
        clock.advance(by: .seconds(1.0 / limit))
        #expect(try await waitUntil { recorder.count(went: "result") == 1 })
        while !recorder.pollWent {
            clock.advance(by: .milliseconds(10))
            _ = try await waitUntil(timeout: .milliseconds(100)) { recorder.pollWent }
        }
        #expect(recorder.wentOrder.contains("poll, 2 results waiting"), "\(recorder.wentOrder)")
        while recorder.wentOrder.count < 4 {
            clock.advance(by: .seconds(1.0 / limit))
            _ = try await waitUntil(timeout: .milliseconds(200)) { recorder.wentOrder.count == 4 }
        }
        for task in tasks { try await task.value }
        #expect(recorder.count("delayed GetActivityTask") == 1)
    }

    @Test func aWaitingCallEndsWithCancellationAndTheNextOneStillGoes() async throws {
        let clock = StepWorkerTestKit.TestClock()
        let limiter = AdaptiveRateLimiter(clock: clock)
        let limit = try Self.throttle(.getActivityTask, limiter, clock)
        try await limiter.beforeSend(.getActivityTask)
        let cancelled = Task { try await limiter.beforeSend(.getActivityTask) }
        #expect(try await waitUntil { limiter.waiting(.getActivityTask) == 1 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
        #expect(limiter.waiting(.getActivityTask) == 0)
        let next = Task { try await limiter.beforeSend(.getActivityTask) }
        #expect(try await waitUntil { limiter.waiting(.getActivityTask) == 1 })
        clock.advance(by: .seconds(1.0 / limit))
        _ = try await next.value
    }

    @Test func successesAfterAThrottleRaiseTheLimitAgain() throws {
        let clock = StepWorkerTestKit.TestClock()
        let limiter = AdaptiveRateLimiter(clock: clock)
        let cut = try Self.throttle(.getActivityTask, limiter, clock)
        for _ in 0..<40 {
            clock.advance(by: .milliseconds(250))
            limiter.afterResponse(.getActivityTask, throttled: false)
        }
        #expect(try #require(limiter.limit(.getActivityTask)) > cut)
    }
}
