/// The counters of every pool summed, and the `STATUS=` line made from them.
public struct SupervisorCounters: Sendable, Equatable {
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    /// Tasks whose token the service declared dead (timed out or stopped elsewhere).
    public var gone = 0
    public var activities = 0

    /// - Parameter activities: how many are configured (by default one per element of `pools`).
    public init(_ pools: [ActivityPool.Counters], activities: Int? = nil) {
        self.activities = activities ?? pools.count
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
