/// What the daemon's health check says: the watchdog pings only while it is healthy.
public struct WatchdogHealth: Sendable, Hashable {
    /// Whether the daemon makes progress (pollers advance, the event loop answers, …).
    public var isHealthy: Bool
    /// Why not, for the log; nil when healthy.
    public var reason: String?

    public static let healthy = WatchdogHealth(isHealthy: true, reason: nil)

    public static func unhealthy(_ reason: String) -> WatchdogHealth {
        WatchdogHealth(isHealthy: false, reason: reason)
    }

    public init(isHealthy: Bool, reason: String? = nil) {
        self.isHealthy = isHealthy
        self.reason = isHealthy ? nil : reason
    }
}
