@testable import StepWorker
import StepWorkerTestKit
import Testing

/// The daemon's clock: sleeps on an event loop, so a cancelled one frees its timer at once (the
/// runtime's `Task.sleep` kept a cancelled heartbeat's timer until its deadline: ~1 KB per task).
@Suite(.timeLimit(.minutes(1)))
struct EventLoopClockTests {
    @Test func cancellingAnHourLongSleepEndsItWithCancellationError() async {
        let clock = EventLoopClock()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let sleeper = Task {
            startedContinuation.yield()
            try await clock.sleep(for: .seconds(3600))
        }
        _ = await started.first(where: { _ in true }, timeout: .seconds(30))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test func aSleepInACancelledTaskThrowsAtOnce() async {
        let clock = EventLoopClock()
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(3600))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test func aShortSleepReturns() async throws {
        let clock = EventLoopClock()
        let before = clock.now
        try await clock.sleep(for: .milliseconds(20))
        #expect(clock.now >= before.advanced(by: .milliseconds(20)))
        try await clock.sleep(until: before, tolerance: nil)  // a deadline already past
    }

    @Test func nanosecondsAreCappedRatherThanOverflowing() {
        #expect(EventLoopClock.nanoseconds(.milliseconds(1500)) == 1_500_000_000)
        #expect(EventLoopClock.nanoseconds(.nanoseconds(7)) == 7)
        #expect(EventLoopClock.nanoseconds(.seconds(Int64.max)) == .max)
    }
}
