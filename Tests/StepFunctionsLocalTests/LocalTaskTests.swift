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

/// Result submissions are counted, and a second result that contradicts the first is told apart
/// from a retry of the same one: what the daemon's exactly-once tests assert on.
@Suite struct LocalTaskResultCountTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func started(heartbeat: Double? = nil) throws -> LocalTask {
        var task = LocalTask(id: "t1", activityArn: "arn", input: "{}", heartbeatSeconds: heartbeat, timeoutSeconds: nil, scheduledAt: t0)
        try task.start(token: "tok", workerName: nil, at: t0)
        return task
    }

    @Test func aRetriedSuccessIsRejectedButDoesNotConflict() throws {
        var task = try started()
        try task.succeed(output: "[1]", at: t0 + 1)
        #expect(throws: LocalTask.Rejection.finished) { try task.succeed(output: "[1]", at: t0 + 2) }
        #expect(task.resultAttempts == 2)
        #expect(task.rejectedResults == 1)
        #expect(task.conflictingResults == 0)
        #expect(task.output == "[1]")
    }

    @Test func aDifferentSecondResultConflicts() throws {
        var task = try started()
        try task.succeed(output: "[1]", at: t0 + 1)
        #expect(throws: LocalTask.Rejection.finished) { try task.succeed(output: "[2]", at: t0 + 2) }
        #expect(throws: LocalTask.Rejection.finished) { try task.fail(error: "E", cause: nil, at: t0 + 3) }
        #expect(task.resultAttempts == 3)
        #expect(task.rejectedResults == 2)
        #expect(task.conflictingResults == 2)

        var failed = try started()
        try failed.fail(error: "E", cause: "c", at: t0 + 1)
        #expect(throws: LocalTask.Rejection.finished) { try failed.fail(error: "E", cause: "c", at: t0 + 2) }
        #expect(throws: LocalTask.Rejection.finished) { try failed.fail(error: "F", cause: "c", at: t0 + 2) }
        #expect(failed.rejectedResults == 2)
        #expect(failed.conflictingResults == 1)
        #expect(failed.status == .failed)
        #expect(failed.error == "E")
    }

    @Test func aLateResultOfATimedOutTaskIsRejectedWithoutConflict() throws {
        var task = try started(heartbeat: 5)
        #expect(throws: LocalTask.Rejection.finished) { try task.succeed(output: "{}", at: t0 + 6) }
        #expect(task.status == .timedOut)
        #expect(task.resultAttempts == 1)
        #expect(task.rejectedResults == 1)
        #expect(task.conflictingResults == 0)
    }

    @Test func heartbeatsAreNotResults() throws {
        var task = try started(heartbeat: 5)
        try task.heartbeat(at: t0 + 1)
        #expect(task.resultAttempts == 0)
    }
}
