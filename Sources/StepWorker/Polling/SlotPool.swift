import Synchronization

/// An activity's capacity: `capacity` slots, each held by an open poll or a running handler, so
/// a task that a poll brings always starts at once.
///
/// `acquire()` waits (first come, first served) until a slot is free; a waiter that is cancelled
/// leaves the queue without taking one. `resize(to:)` changes the capacity at once for new
/// acquisitions; slots already held are kept until released (a pool shrunk by a reload drains).
public final class SlotPool: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var capacity: Int
        public var held: Int
        public var waiting: Int

        public init(capacity: Int, held: Int, waiting: Int) {
            self.capacity = capacity
            self.held = held
            self.waiting = waiting
        }
    }

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var capacity: Int
        var held = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        var closed = false

        /// Hands free slots to waiters in order; returns whom to resume.
        mutating func admit() -> [CheckedContinuation<Void, any Error>] {
            var admitted: [CheckedContinuation<Void, any Error>] = []
            while held < capacity, !waiters.isEmpty {
                held += 1
                admitted.append(waiters.removeFirst().continuation)
            }
            return admitted
        }
    }

    public struct Closed: Error {}

    private let state: Mutex<State>

    public init(capacity: Int) {
        precondition(capacity >= 0)
        state = Mutex(State(capacity: capacity))
    }

    public var snapshot: Snapshot {
        state.withLock { Snapshot(capacity: $0.capacity, held: $0.held, waiting: $0.waiters.count) }
    }

    /// Waits for a free slot and takes it. Throws `CancellationError` when the calling task is
    /// cancelled while waiting, and `SlotPool.Closed` once the pool is closed.
    public func acquire() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.closed { return .failure(Closed()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.held < state.capacity && state.waiters.isEmpty {
                        state.held += 1
                        return .success(())
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Takes a slot if one is free now.
    public func tryAcquire() -> Bool {
        state.withLock { state in
            guard !state.closed, state.held < state.capacity, state.waiters.isEmpty else { return false }
            state.held += 1
            return true
        }
    }

    /// Gives a slot back; the longest waiter gets it.
    public func release() {
        let admitted = state.withLock { state in
            precondition(state.held > 0, "SlotPool.release() without a held slot")
            state.held -= 1
            return state.admit()
        }
        for continuation in admitted { continuation.resume() }
    }

    public func resize(to capacity: Int) {
        precondition(capacity >= 0)
        let admitted = state.withLock { state in
            state.capacity = capacity
            return state.admit()
        }
        for continuation in admitted { continuation.resume() }
    }

    /// Refuses every waiting and future `acquire()` with `Closed`; held slots may still be released.
    public func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Closed()) }
    }
}
