import CoreMetrics
import Synchronization

/// One activity's metrics; every event site calls one method.
public struct ActivityMetrics: Sendable {
    private let tasks: [WorkerMetrics.TaskOutcome: Counter]
    private let handlerDuration: Timer
    private let running: Meter
    private let concurrency: Gauge
    private let polls: [WorkerMetrics.PollResult: Counter]
    private let heartbeats: [WorkerMetrics.HeartbeatResult: Counter]
    private let resultRetries: Counter

    init(name: String, factory: any MetricsFactory) {
        typealias Name = WorkerMetrics.Name
        let activity = ("activity", name)
        func counters<Key: RawRepresentable<String> & CaseIterable & Hashable>(
            _ label: String, _ dimension: String, _ keys: Key.Type
        ) -> [Key: Counter] {
            Dictionary(uniqueKeysWithValues: Key.allCases.map {
                ($0, Counter(label: label, dimensions: [activity, (dimension, $0.rawValue)], factory: factory))
            })
        }
        tasks = counters(Name.tasks, "outcome", WorkerMetrics.TaskOutcome.self)
        polls = counters(Name.polls, "result", WorkerMetrics.PollResult.self)
        heartbeats = counters(Name.heartbeats, "result", WorkerMetrics.HeartbeatResult.self)
        handlerDuration = Timer(label: Name.handlerDuration, dimensions: [activity], factory: factory)
        running = Meter(label: Name.tasksRunning, dimensions: [activity], factory: factory)
        concurrency = Gauge(label: Name.concurrency, dimensions: [activity], factory: factory)
        resultRetries = Counter(label: Name.resultRetries, dimensions: [activity], factory: factory)
    }

    func finished(_ outcome: WorkerMetrics.TaskOutcome) { tasks[outcome]?.increment() }

    func polled(_ result: WorkerMetrics.PollResult) { polls[result]?.increment() }

    func heartbeat(_ result: WorkerMetrics.HeartbeatResult) { heartbeats[result]?.increment() }

    /// A task took its slot to run (its handler, then its result's delivery).
    func taskStarted() { running.increment() }

    func taskEnded() { running.decrement() }

    /// How long a handler ran, from the task's receipt to the handler's exit.
    func handlerRan(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        handlerDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// A result send failed and will be tried again.
    func resultRetried() { resultRetries.increment() }

    /// Slots of the activity: its `concurrency`, or 0 once a reload removed it.
    func capacity(_ slots: Int) { concurrency.record(slots) }
}
