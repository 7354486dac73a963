import Synchronization

/// The client side of one API's budget: a token bucket filled at the rate `AdaptiveRate` allows,
/// with the calls that find it empty waiting in `CallPriority` order. Open (no waiting at all)
/// while there is no rate. One pump task at a time hands tokens to waiters as they refill.
final class SendGate: Sendable {
    private struct Waiter {
        var priority: CallPriority
        var sequence: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Calls/s; nil: open.
        var rate: Double?
        var tokens: Double = 0
        var refilledAt: Duration = .zero
        var waiters: [UInt64: Waiter] = [:]
        var nextSequence: UInt64 = 0
        var pumping = false

        /// The bucket holds at most a second's worth of calls (at least one), as botocore's does.
        mutating func refill(to now: Duration) {
            if let rate, now > refilledAt {
                tokens = min(max(rate, 1), tokens + (now - refilledAt).seconds * rate)
            }
            refilledAt = max(refilledAt, now)
        }

        /// The best waiter: lowest priority value, then first come.
        func next() -> UInt64? {
            waiters.min { left, right in
                left.value.priority != right.value.priority
                    ? left.value.priority < right.value.priority : left.value.sequence < right.value.sequence
            }?.key
        }
    }

    private let state = Mutex(State())
    private let time: ElapsedTime

    init(time: ElapsedTime) {
        self.time = time
    }

    /// Calls waiting now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Sets the rate (nil: open). Waiters are served at the new rate from the next refill on.
    func setRate(_ rate: Double?) {
        let now = time.now()
        let released: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            state.refill(to: now)
            if state.rate == nil, rate != nil { state.tokens = 1 }  // the first call after a throttle goes
            state.rate = rate
            if let rate { state.tokens = min(state.tokens, max(rate, 1)) }
            guard rate == nil else { return [] }
            let all = state.waiters.values.map(\.continuation)
            state.waiters.removeAll()
            return all
        }
        for continuation in released { continuation.resume() }
    }

    /// Waits for a token; true when the call had to wait. Throws `CancellationError` when the
    /// calling task is cancelled while waiting.
    func acquire(_ priority: CallPriority) async throws -> Bool {
        let now = time.now()
        let id: UInt64? = state.withLock { state in
            guard state.rate != nil else { return nil }
            state.refill(to: now)
            if state.waiters.isEmpty, state.tokens >= 1 {
                state.tokens -= 1
                return nil
            }
            state.nextSequence += 1
            return state.nextSequence
        }
        guard let id else { return false }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Next { case cancelled, go, wait(startPump: Bool) }
                let next: Next = state.withLock { state in
                    if Task.isCancelled { return .cancelled }
                    if state.rate == nil { return .go }  // opened meanwhile
                    state.waiters[id] = Waiter(priority: priority, sequence: id, continuation: continuation)
                    defer { state.pumping = true }
                    return .wait(startPump: !state.pumping)
                }
                switch next {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .go: continuation.resume()
                case .wait(let startPump): if startPump { Task { await self.pump() } }
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        return true
    }

    /// Hands out tokens as they refill until nobody waits.
    private func pump() async {
        while true {
            let now = time.now()
            let (granted, wait): ([CheckedContinuation<Void, any Error>], Duration?) = state.withLock { state in
                state.refill(to: now)
                var granted: [CheckedContinuation<Void, any Error>] = []
                while let id = state.next(), state.rate == nil || state.tokens >= 1 {
                    if state.rate != nil { state.tokens -= 1 }
                    if let waiter = state.waiters.removeValue(forKey: id) { granted.append(waiter.continuation) }
                }
                guard let rate = state.rate, !state.waiters.isEmpty else {
                    state.pumping = false
                    return (granted, nil)
                }
                return (granted, .seconds((1 - state.tokens) / rate))
            }
            for continuation in granted { continuation.resume() }
            guard let wait else { return }
            try? await time.sleep(max(wait, .milliseconds(1)))
        }
    }
}
