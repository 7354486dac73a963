import Synchronization

/// A clock whose time moves only when a test calls `advance(by:)`. Every `sleep` is published on
/// `sleeps` (its duration from `now`) when it begins, so a test waits until the code under test
/// is asleep before it advances: no race between the two. A sleep whose deadline has passed
/// returns at once (it is still published); a sleeping task that is cancelled throws
/// `CancellationError` at once.
public final class TestClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        /// Time since the clock was made.
        public var offset: Swift.Duration

        public init(offset: Swift.Duration) {
            self.offset = offset
        }

        public func advanced(by duration: Swift.Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Swift.Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Each sleep as it begins: how long it is to sleep.
    public let sleeps: AsyncStream<Swift.Duration>
    private let continuation: AsyncStream<Swift.Duration>.Continuation

    public init() {
        (sleeps, continuation) = AsyncStream.makeStream(of: Swift.Duration.self)
    }

    deinit {
        continuation.finish()
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Swift.Duration { .zero }

    /// Sleeps not yet woken.
    public var pendingSleeps: Int { state.withLock { $0.sleepers.count } }

    /// How long each pending sleep has left, shortest first.
    public var pendingDeadlines: [Swift.Duration] {
        state.withLock { state in state.sleepers.values.map { state.now.duration(to: $0.deadline) }.sorted() }
    }

    /// Moves time forward and wakes every sleep whose deadline is now reached, earliest first.
    public func advance(by duration: Swift.Duration) {
        precondition(duration >= .zero, "a clock does not go back")
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
            for (id, _) in due { state.sleepers.removeValue(forKey: id) }
            return due.map(\.value.continuation)
        }
        for sleeper in due { sleeper.resume() }
    }

    public func sleep(until deadline: Instant, tolerance: Swift.Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (sleeper: CheckedContinuation<Void, any Error>) in
                let wake: Result<Void, any Error>? = state.withLock { state in
                    // Published under the lock, so a test that saw it and advances wakes this sleep.
                    continuation.yield(state.now.duration(to: deadline))
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: sleeper)
                    return nil
                }
                if let wake { sleeper.resume(with: wake) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
