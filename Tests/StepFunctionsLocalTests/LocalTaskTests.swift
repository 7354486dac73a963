import Foundation
import StepFunctionsLocal
import Testing

/// The task state machine, with explicit times: no I/O, no sleeping.
@Suite struct LocalTaskTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func task(heartbeat: Double? = nil, timeout: Double? = nil) -> LocalTask {
        LocalTask(id: "t1", activityArn: "arn", input: "{}", heartbeatSeconds: heartbeat, timeoutSeconds: timeout, scheduledAt: t0)
    }

    @Test func startHeartbeatSucceed() throws {
        var task = task(heartbeat: 10)
        try task.start(token: "tok", workerName: "w1", at: t0 + 1)
        #expect(task.status == .started)
        #expect(task.workerName == "w1")
        try task.heartbeat(at: t0 + 9)
        try task.heartbeat(at: t0 + 18)
        #expect(task.heartbeatCount == 2)
        try task.succeed(output: "{\"a\":1}", at: t0 + 27)
        #expect(task.status == .succeeded)
        #expect(task.output == "{\"a\":1}")
        #expect(task.finishedAt == t0 + 27)
    }

    @Test func missedHeartbeatTimesOutAtTheDeadline() throws {
        var task = task(heartbeat: 10)
        try task.start(token: "tok", workerName: nil, at: t0 + 1)
        try task.heartbeat(at: t0 + 5)
        #expect(task.deadline == t0 + 15)
        #expect(throws: LocalTask.Rejection.finished) { try task.heartbeat(at: t0 + 15) }
        #expect(task.status == .timedOut)
        #expect(task.finishedAt == t0 + 15)
        #expect(task.error == "States.HeartbeatTimeout")
    }

    @Test func heartbeatJustBeforeTheDeadlineKeepsTheTaskAlive() throws {
        var task = task(heartbeat: 10)
        try task.start(token: "tok", workerName: nil, at: t0)
        try task.heartbeat(at: t0 + 9.999)
        #expect(task.expire(at: t0 + 19) == false)
        #expect(task.status == .started)
    }

    @Test func timeoutCountsFromSchedulingNotFromStart() throws {
        var task = task(heartbeat: 100, timeout: 30)
        try task.start(token: "tok", workerName: nil, at: t0 + 20)
        #expect(task.deadline == t0 + 30)
        try task.heartbeat(at: t0 + 29)
        #expect(throws: LocalTask.Rejection.finished) { try task.succeed(output: "{}", at: t0 + 30) }
        #expect(task.status == .timedOut)
        #expect(task.error == "States.Timeout")
    }

    @Test func aScheduledTaskNobodyTakesTimesOut() {
        var task = task(timeout: 5)
        #expect(task.expire(at: t0 + 4.9) == false)
        #expect(throws: LocalTask.Rejection.finished) { try task.start(token: "tok", workerName: nil, at: t0 + 5) }
        #expect(task.status == .timedOut)
        #expect(task.token == nil)
    }

    @Test func heartbeatTimeoutDoesNotRunBeforeTheStart() {
        var task = task(heartbeat: 1)
        #expect(task.deadline == nil)
        #expect(task.expire(at: t0 + 1000) == false)
        #expect(task.status == .scheduled)
    }

    @Test func aFinishedTaskRefusesEveryEvent() throws {
        var task = task()
        try task.start(token: "tok", workerName: nil, at: t0)
        try task.fail(error: "E", cause: "C", at: t0 + 1)
        #expect(task.status == .failed)
        #expect(task.error == "E")
        #expect(throws: LocalTask.Rejection.finished) { try task.heartbeat(at: t0 + 2) }
        #expect(throws: LocalTask.Rejection.finished) { try task.succeed(output: "{}", at: t0 + 2) }
        #expect(throws: LocalTask.Rejection.finished) { try task.fail(error: nil, cause: nil, at: t0 + 2) }
        #expect(task.status == .failed)
        #expect(task.finishedAt == t0 + 1)
    }

    @Test func aTaskWithoutLimitsNeverTimesOut() throws {
        var task = task()
        try task.start(token: "tok", workerName: nil, at: t0)
        #expect(task.deadline == nil)
        #expect(task.expire(at: t0 + 1_000_000) == false)
    }
}
