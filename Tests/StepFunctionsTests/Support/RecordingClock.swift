import StepFunctions
import Synchronization

/// A clock whose `sleep` returns at once, advancing virtual time and recording how long each
/// sleep asked for, so retry schedules can be asserted exactly.
final class RecordingClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant

    private struct State {
        var now = ContinuousClock.now
        var sleeps: [Duration] = []
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            state.sleeps.append(deadline - state.now)
            state.now = max(state.now, deadline)
        }
    }
}

/// Jitter that returns the given numbers in turn (repeating the last).
final class FixedJitter: Sendable, JitterSource {
    private let values: Mutex<[Double]>

    init(_ values: [Double]) {
        self.values = Mutex(values)
    }

    func next() -> Double {
        values.withLock { values in values.count > 1 ? values.removeFirst() : (values.first ?? 0) }
    }
}
