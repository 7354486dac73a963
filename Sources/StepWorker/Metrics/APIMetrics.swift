public import CoreMetrics
public import StepFunctions

/// The rate limiter's view of the service, per API: attempts sent, throttles answered, calls the
/// limiter held back, and the limit in force (docs/metrics.md, docs/fleet.md).
public final class APIMetrics: RateLimiterObserver {
    private struct Series: Sendable {
        let calls: Counter
        let throttles: Counter
        let delayed: Counter
        let limit: Gauge
    }

    private let series: [RateLimitedAPI: Series]

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        typealias Name = WorkerMetrics.Name
        series = Dictionary(uniqueKeysWithValues: RateLimitedAPI.allCases.map { api in
            let dimension = [("api", api.rawValue)]
            return (api, Series(
                calls: Counter(label: Name.apiCalls, dimensions: dimension, factory: factory),
                throttles: Counter(label: Name.apiThrottles, dimensions: dimension, factory: factory),
                delayed: Counter(label: Name.apiDelayedCalls, dimensions: dimension, factory: factory),
                limit: Gauge(label: Name.apiRateLimit, dimensions: dimension, factory: factory)))
        })
        for api in RateLimitedAPI.allCases { series[api]?.limit.record(0) }
    }

    public func sent(_ api: RateLimitedAPI) { series[api]?.calls.increment() }
    public func throttled(_ api: RateLimitedAPI) { series[api]?.throttles.increment() }
    public func delayed(_ api: RateLimitedAPI) { series[api]?.delayed.increment() }
    /// 0 while no limit is in force.
    public func limitChanged(_ api: RateLimitedAPI, to callsPerSecond: Double?) {
        series[api]?.limit.record(callsPerSecond ?? 0)
    }
}
