

/// The watchdog's decisions, apart from time and I/O: given each health check's answer, ping
/// or not, and what to log. It logs a failure once (and again when the reason changes), and a
/// recovery once, so a stuck daemon does not flood the journal every few seconds.
public struct WatchdogStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Send `WATCHDOG=1`.
        case ping
        /// Send `WATCHDOG=1` and log that the check passes again after `missedPings` withheld.
        case pingAfterRecovery(missedPings: Int)
        /// Do not ping, and log why (the check started failing, or fails for a new reason).
        case withholdAndReport(reason: String)
        /// Do not ping; the failure was already logged.
        case withhold
    }

    private var missedPings = 0
    private var reportedReason: String?

    public init() {}

    /// What to do after a health check answered `health`.
    public mutating func checked(_ health: WatchdogHealth) -> Action {
        if health.isHealthy {
            defer { missedPings = 0; reportedReason = nil }
            return missedPings == 0 ? .ping : .pingAfterRecovery(missedPings: missedPings)
        }
        missedPings += 1
        let reason = health.reason ?? "health check failed"
        if missedPings == 1 || reason != reportedReason {
            reportedReason = reason
            return .withholdAndReport(reason: reason)
        }
        return .withhold
    }

    /// systemd expects a ping within `WATCHDOG_USEC`; pinging at half of it leaves a margin.
    public static func pingInterval(forTimeout timeout: Duration) -> Duration {
        timeout / 2
    }
}
