public import Systemd

/// Decides whether the pollers make progress, for the watchdog; pure, so it is tested without
/// time or I/O.
///
/// A pool makes progress when a poll returned or failed since the last check. A pool whose
/// slots are all taken by running tasks, or whose pollers wait for a warm handler to be ready, is
/// not expected to poll, so it counts as progressing.
/// A pool that has not progressed for longer than `limit` (the 70 s poll timeout plus a margin)
/// while the worker is not draining is stalled, and then the whole worker is unhealthy.
///
/// Pools are known by activity name, so a reload that adds or removes activities starts or
/// forgets their clocks, and one that only changes settings keeps them. A failed poll is
/// progress too, and the slowest poll backoff (60 s) stays under the limit.
public struct StallDetector<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public static var defaultLimit: Duration { .seconds(100) }

    /// One pool as the check sees it.
    public struct Progress: Sendable {
        public var name: String
        public var counters: ActivityPool.Counters
        /// Its concurrency.
        public var capacity: Int

        public init(name: String, counters: ActivityPool.Counters, capacity: Int) {
            self.name = name
            self.counters = counters
            self.capacity = capacity
        }
    }

    public let limit: Duration
    private var progress: [String: (events: Int, since: Instant)] = [:]

    public init(limit: Duration = defaultLimit) {
        self.limit = limit
    }

    /// `pools`: every configured activity's pool now.
    public mutating func check(_ pools: [Progress], draining: Bool, now: Instant) -> WatchdogHealth {
        var stalled: [String] = []
        var seen = Set<String>()
        for pool in pools {
            seen.insert(pool.name)
            let events = pool.counters.pollsCompleted + pool.counters.pollErrors
            // Every slot taken by a task, or pollers held back because no handler could take a
            // task (a warm runtime that cannot start): no poll is expected; restarting the
            // daemon would not help.
            let busy = pool.counters.running >= pool.capacity || pool.counters.waitingForHandler > 0
            guard let last = progress[pool.name], last.events == events, !busy, !draining else {
                progress[pool.name] = (events, now)
                continue
            }
            if last.since.duration(to: now) > limit {
                stalled.append(pool.name)
            }
        }
        progress = progress.filter { seen.contains($0.key) }
        if stalled.isEmpty { return .healthy }
        return .unhealthy("no poll returned for over \(limit) in: " + stalled.joined(separator: ", "))
    }
}
