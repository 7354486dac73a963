/// The APIs a worker calls in volume, each metered by the service with a token bucket of its own.
public enum RateLimitedAPI: String, Sendable, CaseIterable {
    case getActivityTask = "GetActivityTask"
    case sendTaskHeartbeat = "SendTaskHeartbeat"
    case sendTaskSuccess = "SendTaskSuccess"
    case sendTaskFailure = "SendTaskFailure"

    /// The priority of a call of this API when nothing more is known (heartbeats carry deadlines).
    var defaultPriority: CallPriority {
        switch self {
        case .sendTaskSuccess, .sendTaskFailure: .result
        case .sendTaskHeartbeat: .heartbeat(deadline: .zero)
        case .getActivityTask: .poll
        }
    }
}

/// What the limiter tells the outside world (metrics), as it happens.
public protocol RateLimiterObserver: Sendable {
    /// An attempt of a call of `api` is about to be sent (retries count again).
    func sent(_ api: RateLimitedAPI)
    /// The service answered an attempt with throttling.
    func throttled(_ api: RateLimitedAPI)
    /// A call waited for the limiter before it was sent.
    func delayed(_ api: RateLimitedAPI)
    /// The limit in force changed; nil: no limit.
    func limitChanged(_ api: RateLimitedAPI, to callsPerSecond: Double?)
}
