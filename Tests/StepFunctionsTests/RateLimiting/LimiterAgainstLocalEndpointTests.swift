import Foundation
import StepFunctions
import StepFunctionsLocal
import StepWorkerTestKit
import Synchronization
import Testing

/// The client's limiter against the local endpoint's quota over real HTTP: once throttled, it
/// holds calls near the bucket's refill rate, so few calls are throttled and none is lost.
@Suite(.timeLimit(.minutes(1)))
struct LimiterAgainstLocalEndpointTests {
    final class Counts: RateLimiterObserver {
        let state = Mutex<[String: Int]>([:])
        func bump(_ key: String) { state.withLock { $0[key, default: 0] += 1 } }
        func sent(_ api: RateLimitedAPI) { bump("sent") }
        func throttled(_ api: RateLimitedAPI) { bump("throttled") }
        func delayed(_ api: RateLimitedAPI) { bump("delayed") }
        func limitChanged(_ api: RateLimitedAPI, to callsPerSecond: Double?) {}
        subscript(_ key: String) -> Int { state.withLock { $0[key, default: 0] } }
    }

    @Test func heartbeatsPacedByTheLimiterAreRarelyThrottledAndAllArrive() async throws {
        let counts = Counts()
        let limiter = AdaptiveRateLimiter(observer: counts)
        let refill = 20.0
        let endpoint = LocalEndpointConfiguration(rateLimits: ["SendTaskHeartbeat": RateLimit(burst: 5, refillPerSecond: refill)])
        try await LocalSession.with(endpoint, configureClient: {
            $0.rateLimiter = limiter
            $0.retryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
        }) { session in
            let arn = try await session.admin.createActivity(name: "paced")
            let id = try await session.admin.submitTask(activityArn: arn, input: "{}", heartbeatSeconds: 60)
            let task = try #require(try await session.client.getActivityTask(activityArn: arn, workerName: "paced"))
            let senders = 3, each = 30
            try await withThrowingDiscardingTaskGroup { group in
                for _ in 0..<senders {
                    group.addTask {
                        for _ in 0..<each { try await session.client.sendTaskHeartbeat(token: task.token, within: .seconds(5)) }
                    }
                }
            }
            let state = try await session.admin.task(id)
            #expect(state.heartbeatCount == senders * each, "every heartbeat arrived")
            let stats = try await session.admin.stats()
            let throttled = stats.throttled["SendTaskHeartbeat", default: 0]
            #expect(throttled == counts["throttled"])
            let share = Double(throttled) / Double(counts["sent"])
            #expect(share < 0.15, "throttled \(throttled) of \(counts["sent"]) attempts")
            #expect(counts["delayed"] > 0)
            let limit = try #require(limiter.limit(.sendTaskHeartbeat))
            #expect(limit > refill / 3 && limit < refill * 3, "limit \(limit)/s against a refill of \(refill)/s")
        }
    }
}
