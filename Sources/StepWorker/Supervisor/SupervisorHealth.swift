import Systemd

/// The counters of every pool summed, and the `STATUS=` line made from them.
public struct SupervisorCounters: Sendable, Equatable {
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    /// Tasks whose token the service declared dead (timed out or stopped elsewhere).
    public var gone = 0
    public var activities = 0

    public init(_ pools: [ActivityPool.Counters]) {
        activities = pools.count
        for counters in pools {
            running += counters.running
            succeeded += counters.succeeded
            failed += counters.failed
            gone += counters.gone
        }
    }

    /// What `systemctl status` shows, e.g. `3 running, 1204 succeeded, 3 failed; 4 activities`.
    public var statusLine: String {
        "\(running) running, \(succeeded) succeeded, \(failed) failed; \(activities) \(activities == 1 ? "activity" : "activities")"
    }
}

/// Decides whether the pollers make progress, for the watchdog; pure, so it is tested without
/// time or I/O.
///
/// A pool makes progress when a poll returned or failed since the last check. A pool whose
/// slots are all taken by running tasks is not expected to poll, so it counts as progressing.
/// A pool that has not progressed for longer than `limit` (the 70 s poll timeout plus a margin)
/// while the worker is not draining is stalled, and then the whole worker is unhealthy.
///
/// Known limit: a poll backoff longer than `limit` (the slow backoff for a missing activity or
/// missing permissions reaches 5 minutes) also reads as a stall.
public struct StallDetector<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public static var defaultLimit: Duration { .seconds(100) }

    public let limit: Duration
    private var progress: [(events: Int, since: Instant)?]

    public init(pools: Int, limit: Duration = defaultLimit) {
        self.limit = limit
        self.progress = Array(repeating: nil, count: pools)
    }

    /// `pools[i]` are pool i's counters now and `capacities[i]` its concurrency.
    public mutating func check(
        _ pools: [ActivityPool.Counters], capacities: [Int], draining: Bool, now: Instant, names: [String]
    ) -> WatchdogHealth {
        var stalled: [String] = []
        for index in pools.indices {
            let counters = pools[index]
            let events = counters.pollsCompleted + counters.pollErrors
            let busy = counters.running >= capacities[index]
            guard let last = progress[index], last.events == events, !busy, !draining else {
                progress[index] = (events, now)
                continue
            }
            if last.since.duration(to: now) > limit {
                stalled.append(names[index])
            }
        }
        if stalled.isEmpty { return .healthy }
        return .unhealthy("no poll returned for over \(limit) in: " + stalled.joined(separator: ", "))
    }
}
