/// How many file descriptors a configuration can hold open at once, part by part, so the daemon
/// and `stepworker check` can compare it with `RLIMIT_NOFILE` before a task fails for want of
/// one. Every part is bounded by the code that opens it; the figures name those bounds.
public struct DescriptorBudget: Sendable, Equatable {
    /// The daemon's own: standard streams, epoll and its event and timer descriptors, the
    /// journal, the signal sources, a credential file or process being read, a netlink lookup.
    public static let fixed = 64
    /// Kept free beyond everything counted, so results can still be delivered, the ledger
    /// written and the log sent when every other part is at its bound.
    public static let reserve = 64
    /// One handler start: stdin, stdout and stderr pipes (both ends until the spawn returns) and
    /// the pidfd.
    public static let perHandler = 7
    /// One warm slot beyond its process's pipes: the listener and its connection cap.
    public static let perWarmListener = 1 + RuntimeAPIServer.maxConnections

    /// Connections to the service: every open poll, a result or heartbeat of every running task,
    /// and a few for results of an earlier run (`Supervisor.connectionsNeeded`). The HTTP client
    /// keeps idle ones only up to what was in use, so this bounds its connections.
    public var serviceConnections: Int
    /// Every slot's handler start (stdio and warm alike).
    public var handlers: Int
    /// Warm slots' listeners and their connections.
    public var warmListeners: Int
    /// The metrics listener and its connection cap (0 without `[metrics]`).
    public var metrics: Int

    /// Everything, the fixed part and the reserve included.
    public var total: Int { Self.fixed + serviceConnections + handlers + warmListeners + metrics + Self.reserve }

    public init(activities: [ActivityConfiguration], metrics: Bool) {
        serviceConnections = Supervisor<ContinuousClock>.connectionsNeeded(for: activities)
        handlers = activities.reduce(0) { $0 + $1.concurrency * Self.perHandler }
        warmListeners = activities.reduce(0) { $0 + ($1.handlerProtocol == .lambda ? $1.concurrency * Self.perWarmListener : 0) }
        self.metrics = metrics ? 1 + MetricsServer.maxConnections : 0
    }

    public init(_ configuration: Configuration) {
        self.init(activities: configuration.activities, metrics: configuration.metrics != nil)
    }

    /// The HTTP client's limit on idle connections kept for the service: every open long poll and every
    /// result or heartbeat sent meanwhile needs one (`Supervisor.connectionsNeeded`), twice that
    /// so a reload that adds work has room, and at least 256.
    public static func httpConnectionLimit(for activities: [ActivityConfiguration]) -> Int {
        max(2 * Supervisor<ContinuousClock>.connectionsNeeded(for: activities), 256)
    }

    /// What to say about `limit` (the soft limit the daemon runs with), or nil when it is enough.
    public func shortfall(limit: UInt64) -> String? {
        guard UInt64(total) > limit else { return nil }
        return "the configuration may hold up to \(total) file descriptors (\(serviceConnections) connections to the service, "
            + "\(handlers) for handler starts, \(warmListeners) for warm listeners, \(metrics) for metrics, "
            + "\(Self.fixed + Self.reserve) for the daemon and its reserve), but the limit is \(limit): "
            + "raise LimitNOFILE= (or the container's nofile ulimit), or lower concurrency and pollers"
    }

    /// `configuration` with every activity's `concurrency` and `pollers` scaled down by one factor
    /// so that its budget fits in `limit` (each keeps at least one slot and one poller), or as it
    /// is when it fits. A daemon whose polls took every descriptor would receive task after task
    /// and fail each one for want of pipes; with fewer slots, every task it takes can run.
    public static func fitting(_ configuration: Configuration, limit: UInt64) -> Configuration {
        let budget = DescriptorBudget(configuration)
        guard UInt64(budget.total) > limit else { return configuration }
        // What does not scale with the activities: the daemon's own, the reserve, metrics, and
        // the connections for an earlier run's results.
        let base = budget.total - budget.serviceConnections - budget.handlers - budget.warmListeners
            + (budget.serviceConnections - configuration.activities.reduce(0) { $0 + $1.pollers + $1.concurrency })
        let scaled = budget.total - base
        let room = max(0, Int(clamping: limit) - base)
        var fitted = configuration
        for index in fitted.activities.indices {
            var activity = fitted.activities[index]
            activity.concurrency = max(1, activity.concurrency * room / scaled)
            activity.pollers = max(1, min(activity.concurrency, activity.pollers * room / scaled))
            fitted.activities[index] = activity
        }
        return fitted
    }

    /// What `fitting` changed, one phrase per activity ("resize: concurrency 100 -> 7, pollers
    /// 10 -> 1"); empty when nothing.
    public static func reductions(from original: Configuration, to fitted: Configuration) -> [String] {
        zip(original.activities, fitted.activities).compactMap { before, after in
            guard before.concurrency != after.concurrency || before.pollers != after.pollers else { return nil }
            return "\(before.name): concurrency \(before.concurrency) -> \(after.concurrency), pollers \(before.pollers) -> \(after.pollers)"
        }
    }
}
