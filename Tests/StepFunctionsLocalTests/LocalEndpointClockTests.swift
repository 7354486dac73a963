import Foundation
import StepFunctionsLocal
import Synchronization
import Testing

/// The endpoint in-process with a clock the test moves: expiry is exact, nothing sleeps.
@Suite(.timeLimit(.minutes(1))) struct LocalEndpointClockTests {
    final class ManualClock: Sendable {
        private let date = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
        var now: Date { date.withLock { $0 } }
        func advance(_ seconds: Double) { date.withLock { $0 += seconds } }
    }

    @Test func deadlinesFollowTheInjectedClock() async throws {
        let clock = ManualClock()
        let endpoint = LocalEndpoint(configuration: LocalEndpointConfiguration(now: { clock.now }))
        let arn = try await endpoint.createActivity(name: "work").arn
        let id = try await endpoint.submitTask(TaskSubmission(activityArn: arn, heartbeatSeconds: 10, timeoutSeconds: 100))
        let handout = try #require(try await endpoint.getActivityTask(activityArn: arn, workerName: "w"))
        #expect(handout.taskID == id)
        clock.advance(9.5)
        try await endpoint.sendTaskHeartbeat(token: handout.token)
        clock.advance(9.5)
        #expect(await endpoint.task(id: id)?.status == .started)
        clock.advance(0.5)
        let task = try #require(await endpoint.task(id: id))
        #expect(task.status == .timedOut)
        #expect(task.finishedAt == Date(timeIntervalSince1970: 1_700_000_000 + 19.5))
        await #expect(throws: LocalServiceError.taskTimedOut) { try await endpoint.sendTaskHeartbeat(token: handout.token) }
        await #expect(throws: LocalServiceError.invalidToken) { try await endpoint.sendTaskHeartbeat(token: "forged") }
        #expect(await endpoint.stats().activities[arn]?.tasks == ["TIMED_OUT": 1])
    }
}
