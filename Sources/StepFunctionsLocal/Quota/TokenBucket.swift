/// One API's share of the account's quota, as Step Functions meters it: a bucket of `burst`
/// tokens, refilled at `refillPerSecond`, one token per call; a call that finds it empty is
/// throttled. Pure: time comes in as the offset from any fixed origin.
public struct TokenBucket: Sendable, Equatable {
    public let limit: RateLimit
    /// Tokens now (fractions accumulate between calls).
    public private(set) var tokens: Double
    private var refilledAt: Duration

    /// A full bucket at `now`.
    public init(_ limit: RateLimit, now: Duration = .zero) {
        self.limit = limit
        self.tokens = Double(limit.burst)
        self.refilledAt = now
    }

    /// Takes a token for a call at `now`; false when the bucket is empty (the call is throttled).
    public mutating func take(at now: Duration) -> Bool {
        refill(to: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private mutating func refill(to now: Duration) {
        guard now > refilledAt else { return }
        let elapsed = now - refilledAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(Double(limit.burst), tokens + seconds * limit.refillPerSecond)
        refilledAt = now
    }
}
