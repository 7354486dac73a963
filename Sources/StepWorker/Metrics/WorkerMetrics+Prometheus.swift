import CoreMetrics
public import Logging
public import Prometheus

extension WorkerMetrics {
    /// A swift-metrics factory that records into `registry` (what `GET /metrics` shows), with
    /// `stepworker_handler_duration_seconds` bucketed for handlers (milliseconds to an hour).
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Name.handlerDuration] = handlerDurationBuckets
        return factory
    }
}

extension MetricsServer {
    /// What `stepworker run` does for `[metrics]`: binds `settings`' address, then bootstraps
    /// swift-metrics (once per process) with a Prometheus factory over the registry it serves.
    public static func bootstrap(
        _ settings: MetricsSettings, logger: Logger
    ) async throws(BindError) -> (server: MetricsServer, metrics: WorkerMetrics) {
        let registry = PrometheusCollectorRegistry()
        let server = try await start(host: settings.host, port: settings.port, registry: registry, logger: logger)
        let factory = WorkerMetrics.prometheusFactory(registry: registry)
        MetricsSystem.bootstrap(factory)
        return (server, WorkerMetrics(factory: factory))
    }
}
