import Synchronization

/// The daemon's client-side rate limiter: per API an `AdaptiveRate` that learns from the
/// service's answers how fast calls may go, and a `SendGate` that holds calls to that rate in
/// `CallPriority` order. Shared by every activity of the daemon (one client, one limiter), so a
/// throttled `GetActivityTask` slows all pollers as a whole instead of each backing off alone.
///
/// Across APIs, polls give way: while more results or heartbeats wait for their budget than it
/// lets go in a second, no poll is sent (more polls would only bring more work that needs
/// results and heartbeats).
public final class AdaptiveRateLimiter: Sendable {
    private final class Lane: Sendable {
        let rate: Mutex<AdaptiveRate>
        let gate: SendGate

        init(rate: AdaptiveRate, gate: SendGate) {
            self.rate = Mutex(rate)
            self.gate = gate
        }
    }

    private let lanes: [RateLimitedAPI: Lane]
    private let time: ElapsedTime
    private let observer: (any RateLimiterObserver)?
    /// How often a poll held back by waiting results or heartbeats looks again.
    private let pollRecheck: Duration

    public init(
        clock: any Clock<Duration> = ContinuousClock(), parameters: AdaptiveRate.Parameters = AdaptiveRate.Parameters(),
        observer: (any RateLimiterObserver)? = nil, pollRecheck: Duration = .milliseconds(20)
    ) {
        let time = ElapsedTime(clock)
        self.time = time
        self.observer = observer
        self.pollRecheck = pollRecheck
        lanes = Dictionary(uniqueKeysWithValues: RateLimitedAPI.allCases.map { api in
            (api, Lane(rate: AdaptiveRate(parameters: parameters), gate: SendGate(time: time)))
        })
        if let observer {
            for api in RateLimitedAPI.allCases { observer.limitChanged(api, to: nil) }
        }
    }

    /// The limiter's clock now, as the offset heartbeat deadlines are given in.
    public var now: Duration { time.now() }

    /// The limit in force for `api`, calls/s; nil: none.
    public func limit(_ api: RateLimitedAPI) -> Double? {
        lanes[api]?.rate.withLock { $0.limit }
    }

    /// Calls of `api` waiting for the limiter now.
    public func waiting(_ api: RateLimitedAPI) -> Int {
        lanes[api]?.gate.waiting ?? 0
    }

    /// Waits until a call of `api` may be sent; returns the moment it was let go (for
    /// `afterResponse`). Throws `CancellationError` when cancelled.
    @discardableResult
    public func beforeSend(_ api: RateLimitedAPI, priority: CallPriority? = nil) async throws -> Duration {
        guard let lane = lanes[api] else { return time.now() }
        let priority = priority ?? api.defaultPriority
        var delayed = false
        if priority == .poll {
            while othersWaiting() {
                delayed = true
                try await time.sleep(pollRecheck)
            }
        }
        if try await lane.gate.acquire(priority) { delayed = true }
        if delayed { observer?.delayed(api) }
        observer?.sent(api)
        return time.now()
    }

    /// The service answered a call of `api` let go at `sentAt` (what `beforeSend` returned);
    /// transport failures are no answer and are not recorded.
    public func afterResponse(_ api: RateLimitedAPI, throttled: Bool, sentAt: Duration? = nil) {
        guard let lane = lanes[api] else { return }
        if throttled { observer?.throttled(api) }
        let now = time.now()
        let backlogged = lane.gate.waiting > 0
        let (before, after) = lane.rate.withLock { rate in
            let before = rate.limit
            return (before, rate.record(throttled: throttled, at: now, sentAt: sentAt, backlogged: backlogged))
        }
        guard before != after else { return }
        lane.gate.setRate(after)
        observer?.limitChanged(api, to: after)
    }

    /// Results or heartbeats are backed up: more of them wait than their limit lets go in a
    /// second. (Giving way to any single waiting result would tie the daemon's whole intake to
    /// its slowest lane: a results limit cut to the floor would stop its polls too, and a lane
    /// with no traffic cannot climb back. A second's backlog is the signal that more work would
    /// only wait.)
    private func othersWaiting() -> Bool {
        [RateLimitedAPI.sendTaskSuccess, .sendTaskFailure, .sendTaskHeartbeat].contains { api in
            let waiting = waiting(api)  // nearly always 0: then the limit is not even read
            return waiting > 1 && Double(waiting) > max(1, limit(api) ?? 0)
        }
    }
}
