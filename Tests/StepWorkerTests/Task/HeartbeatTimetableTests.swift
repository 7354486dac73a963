@testable import StepWorker
import Testing

/// `HeartbeatTimetable`: which heartbeat is due when, and the time the service is promised.
@Suite struct HeartbeatTimetableTests {
    let tenSeconds = HeartbeatSchedule(interval: .seconds(10))

    @Test func theEarliestDueIsTheEarliestOfTheTasksWaitingForOne() {
        var table = HeartbeatTimetable<String>()
        #expect(table.earliestDue == nil)
        let a = table.add("a", schedule: tenSeconds, now: .zero, delay: .seconds(9))
        _ = table.add("b", schedule: tenSeconds, now: .seconds(1), delay: .seconds(5))
        #expect(table.earliestDue == .seconds(6))
        #expect(table.takeDue(now: .seconds(5)).isEmpty)
        let due = table.takeDue(now: .seconds(6))
        #expect(due.map(\.beat) == ["b"])
        #expect(due.first?.within == .seconds(5))  // 10 s less the 5 s slept
        // "b" is on its way: only "a" has a due time.
        #expect(table.earliestDue == .seconds(9))
        table.remove(a)
        #expect(table.earliestDue == nil)
        #expect(!table.isEmpty)
    }

    @Test func onlyAnAcknowledgedHeartbeatRestartsThePromise() throws {
        var table = HeartbeatTimetable<String>()
        let id = table.add("a", schedule: tenSeconds, now: .zero, delay: .seconds(4))
        #expect(table.takeDue(now: .seconds(4)).first?.within == .seconds(6))
        // Failed: the next one, 3 s later, has 3 s left of the 10.
        #expect(table.answered(id, acknowledged: false, now: .seconds(4), delay: .seconds(3)) == .seconds(7))
        #expect(table.takeDue(now: .seconds(7)).first?.within == .seconds(3))
        // Failed again after 4 s more: the promise is already broken, so as soon as possible.
        _ = table.answered(id, acknowledged: false, now: .seconds(7), delay: .seconds(4))
        #expect(table.takeDue(now: .seconds(11)).first?.within == .zero)
        // Taken: the promise starts again.
        _ = table.answered(id, acknowledged: true, now: .seconds(11), delay: .seconds(9))
        #expect(table.takeDue(now: .seconds(20)).first?.within == .seconds(1))
    }

    @Test func anAnswerForATaskThatEndedIsIgnored() {
        var table = HeartbeatTimetable<String>()
        let id = table.add("a", schedule: tenSeconds, now: .zero, delay: .seconds(1))
        #expect(table.takeDue(now: .seconds(1)).count == 1)
        table.remove(id)
        #expect(table.answered(id, acknowledged: true, now: .seconds(2), delay: .seconds(9)) == nil)
        #expect(table.isEmpty && table.earliestDue == nil)
    }
}
