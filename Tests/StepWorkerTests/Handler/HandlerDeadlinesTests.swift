#if canImport(Glibc)
import Glibc
#endif
@testable import StepWorker
import Testing

/// The I/O loop's deadline and kill rules, in milliseconds, without processes or clocks.
@Suite("HandlerDeadlines: when to signal the group and stop waiting")
struct HandlerDeadlinesTests {
    typealias Action = HandlerDeadlines.Action
    let term: [Action] = [.signalGroup(SIGTERM), .signalGroup(SIGCONT)]
    let kill: [Action] = [.signalGroup(SIGKILL)]

    func deadlines(
        timeout: Int64? = 1000, killGrace: Int64 = 500, drainGrace: Int64 = 300, pollsForLeaderExit: Bool = false
    ) -> HandlerDeadlines {
        HandlerDeadlines(
            startedAt: 10_000, timeout: timeout, killGrace: killGrace, drainGrace: drainGrace,
            pollsForLeaderExit: pollsForLeaderExit)
    }

    @Test func timeoutTerminatesThenKillsAfterTheGrace() {
        var machine = deadlines()
        #expect(machine.event(.tick(now: 10_999)) == [])
        #expect(machine.endedBy == nil)
        #expect(machine.event(.tick(now: 11_000)) == term)
        #expect(machine.endedBy == .timeout)
        #expect(machine.pollTimeout(now: 11_000) == 500)
        #expect(machine.event(.tick(now: 11_499)) == [])
        #expect(machine.event(.tick(now: 11_500)) == kill)
        #expect(machine.event(.tick(now: 12_000)) == [], "KILL is sent once")
        #expect(machine.endedBy == .timeout)
    }

    @Test func aLateTickStillSendsTermBeforeKill() {
        var machine = deadlines(killGrace: 0)
        #expect(machine.event(.tick(now: 11_200)) == term + kill)
    }

    @Test func stopRequestBeforeTheTimeoutWinsAndKeepsItsReason() {
        var machine = deadlines(killGrace: 1000)
        #expect(machine.event(.tick(now: 10_399)) == [])
        #expect(machine.event(.stopRequested(.taskGone, now: 10_400)) == term)
        #expect(machine.endedBy == .stopRequested(.taskGone))
        #expect(machine.pollTimeout(now: 10_400) == 1000, "the timeout (at 11 000) no longer counts; the kill does")
        #expect(machine.event(.tick(now: 11_000)) == [], "the timeout passing changes nothing")
        #expect(machine.event(.tick(now: 11_400)) == kill)
        #expect(machine.endedBy == .stopRequested(.taskGone))
    }

    @Test func aSecondStopRequestChangesNothing() {
        var machine = deadlines()
        #expect(machine.event(.stopRequested(.shutdownGrace, now: 10_100)) == term)
        #expect(!machine.acceptsStopRequest)
        #expect(machine.event(.stopRequested(.cancelled, now: 10_200)) == [])
        #expect(machine.endedBy == .stopRequested(.shutdownGrace))
        #expect(machine.pollTimeout(now: 10_200) == 400, "the kill stays at the first request's grace")
        #expect(machine.event(.stopRequested(.cancelled, now: 10_600)) == kill)
    }

    @Test func aStopRequestAfterTheTimeoutKeepsTheTimeout() {
        var machine = deadlines()
        #expect(machine.event(.tick(now: 11_000)) == term)
        #expect(machine.event(.stopRequested(.taskGone, now: 11_100)) == [])
        #expect(machine.endedBy == .timeout)
    }

    @Test func leaderExitKillsTheGroupThenDrainsUntilTheGrace() {
        var machine = deadlines()
        #expect(machine.event(.leaderExited(now: 10_200)) == kill)
        #expect(machine.leaderExited)
        #expect(machine.pollTimeout(now: 10_200) == 300, "only the drain deadline is left")
        #expect(machine.event(.tick(now: 10_499)) == [])
        #expect(machine.event(.tick(now: 10_500)) == [.stopWaiting])
        #expect(machine.event(.leaderExited(now: 10_600)) == [], "the leader exits once")
    }

    @Test func afterTheLeaderExitedNeitherTimeoutNorStopEndsTheGroup() {
        var machine = deadlines(drainGrace: 5000)
        #expect(machine.event(.leaderExited(now: 10_900)) == kill)
        #expect(!machine.acceptsStopRequest)
        #expect(machine.event(.tick(now: 11_000)) == [])
        #expect(machine.event(.stopRequested(.taskGone, now: 11_100)) == [])
        #expect(machine.endedBy == nil, "the handler ended by itself")
    }

    @Test func leaderExitDuringTheKillGraceSkipsThePendingKill() {
        var machine = deadlines()
        #expect(machine.event(.stopRequested(.taskGone, now: 10_000)) == term)
        #expect(machine.event(.leaderExited(now: 10_100)) == kill)
        #expect(machine.pollTimeout(now: 10_100) == 300, "the drain, not the cancelled kill at 10 500")
        #expect(machine.event(.tick(now: 10_400)) == [.stopWaiting])
        #expect(machine.endedBy == .stopRequested(.taskGone))
    }

    @Test func pollTimeoutIsTheNearestDeadline() {
        let machine = deadlines(timeout: 1000)
        #expect(machine.pollTimeout(now: 10_000) == 1000)
        #expect(machine.pollTimeout(now: 10_750) == 250)
        #expect(machine.pollTimeout(now: 12_000) == 0, "a deadline passed: do not wait")

        let polling = deadlines(timeout: 1000, pollsForLeaderExit: true)
        #expect(polling.pollTimeout(now: 10_000) == 20, "without a pidfd, look for the leader every 20 ms")
        #expect(polling.pollTimeout(now: 10_990) == 10, "the timeout is nearer than the re-check")

        var exited = deadlines(timeout: 1000, drainGrace: 50, pollsForLeaderExit: true)
        _ = exited.event(.leaderExited(now: 10_000))
        #expect(exited.pollTimeout(now: 10_000) == 50, "no re-check once the leader has exited")
    }

    @Test func noTimeoutWaitsForeverUntilSomethingHappens() {
        var machine = deadlines(timeout: nil)
        #expect(machine.pollTimeout(now: 10_000) == -1)
        #expect(machine.event(.tick(now: 10_000 + 86_400_000)) == [])
        #expect(machine.pollTimeout(now: 10_000 + 86_400_000) == -1)
        #expect(machine.endedBy == nil)
        #expect(machine.event(.stopRequested(.cancelled, now: 86_500_000)) == term)
        #expect(machine.endedBy == .stopRequested(.cancelled))
        #expect(machine.pollTimeout(now: 86_500_000) == 500)
    }

    @Test func hugeDeadlinesClampToInt32() {
        let machine = deadlines(timeout: Int64(Int32.max) * 4)
        #expect(machine.pollTimeout(now: 10_000) == Int32.max)
    }
}
