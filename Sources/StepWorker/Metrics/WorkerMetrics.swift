public import CoreMetrics
import Synchronization

/// The worker's metrics, recorded through swift-metrics where things happen (docs/metrics.md).
/// `stepworker run` gives it a Prometheus factory when `[metrics]` is configured; otherwise, and
/// in tests that do not care, it records into swift-metrics' no-op handlers.
///
/// Every series of an activity is created (at zero) the first time the activity is named, so
/// `rate()` and ratios work before the first event.
public final class WorkerMetrics: Sendable {
    /// How a received task ended: `stepworker_tasks_total{outcome}`.
    public enum TaskOutcome: String, Sendable, CaseIterable {
        /// The service took the handler's output.
        case succeeded
        /// A failure was sent: the handler failed, or was stopped at the end of the shutdown grace.
        case failed
        /// The service declared the token dead (heartbeat or result answered TaskTimedOut and the like).
        case gone
        /// Arrived while draining and was failed at once with `Worker.ShuttingDown`.
        case refused
    }

    /// What a `GetActivityTask` returned: `stepworker_polls_total{result}`.
    public enum PollResult: String, Sendable, CaseIterable {
        case task, empty, error
    }

    /// What a `SendTaskHeartbeat` returned: `stepworker_heartbeats_total{result}`.
    public enum HeartbeatResult: String, Sendable, CaseIterable {
        case ok, gone, error
    }

    /// What a reload did: `stepworker_reloads_total{result}`.
    public enum ReloadResult: String, Sendable, CaseIterable {
        case applied, refused
    }

    /// The metric names, in one place for the code, the docs and the tests.
    public enum Name {
        public static let tasks = "stepworker_tasks_total"
        public static let handlerDuration = "stepworker_handler_duration_seconds"
        public static let tasksRunning = "stepworker_tasks_running"
        public static let concurrency = "stepworker_activity_concurrency"
        public static let polls = "stepworker_polls_total"
        public static let heartbeats = "stepworker_heartbeats_total"
        public static let resultRetries = "stepworker_result_retries_total"
        public static let outboxResults = "stepworker_outbox_results"
        public static let reloads = "stepworker_reloads_total"
        public static let apiCalls = "stepworker_api_calls_total"
        public static let apiThrottles = "stepworker_api_throttles_total"
        public static let apiDelayedCalls = "stepworker_api_delayed_calls_total"
        public static let apiRateLimit = "stepworker_api_rate_limit"
    }

    /// Buckets of `stepworker_handler_duration_seconds`: handlers take from milliseconds to an hour.
    public static let handlerDurationBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        .seconds(120), .seconds(300), .seconds(600), .seconds(1800), .seconds(3600),
    ]

    private let factory: any MetricsFactory
    private let outbox: Meter
    private let reloads: [ReloadResult: Counter]
    private let activities = Mutex<[String: ActivityMetrics]>([:])
    /// The rate limiter's series, per API.
    public let api: APIMetrics

    /// - Parameter factory: where metrics go; by default the one `MetricsSystem` was bootstrapped with.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        api = APIMetrics(factory: factory)
        outbox = Meter(label: Name.outboxResults, factory: factory)
        reloads = Dictionary(uniqueKeysWithValues: ReloadResult.allCases.map {
            ($0, Counter(label: Name.reloads, dimensions: [("result", $0.rawValue)], factory: factory))
        })
    }

    /// The metrics of the activity named `name` (created on first use, then shared).
    public func activity(_ name: String) -> ActivityMetrics {
        activities.withLock { activities in
            if let existing = activities[name] { return existing }
            let created = ActivityMetrics(name: name, factory: factory)
            activities[name] = created
            return created
        }
    }

    /// A result went into the outbox to be delivered (`deliveryEnded` follows).
    func deliveryStarted() { outbox.increment() }

    /// A result left the outbox: acknowledged, its token dead, or refused by the service.
    func deliveryEnded() { outbox.decrement() }

    func reloaded(_ result: ReloadResult) { reloads[result]?.increment() }
}

extension WorkerMetrics.TaskOutcome {
    /// How a task ended, as the service recorded it; a failure report the service refused
    /// counts as `failed`.
    init(_ settlement: TaskLedger.Settlement) {
        switch settlement {
        case .reported(.success): self = .succeeded
        case .reported(.failure), .dropped: self = .failed
        case .gone: self = .gone
        }
    }
}
