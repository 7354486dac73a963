import Foundation
import Logging
import Prometheus
import StepFunctions
import StepWorker
import StepWorkerTestKit
import Testing

/// One activity's worker parts over the test kit's doubles: a scripted service and runner, a
/// test clock, a recording log and Prometheus metrics. No network, no processes, no real time
/// (but for the bounded waits).
struct ScriptedHarness {
    static let arn = "arn:aws:states:us-east-1:123456789012:activity:scripted"
    static let activityName = "scripted"

    let service = ScriptedActivityService()
    let runner = ScriptedProcessRunner()
    let clock = TestClock()
    let directory = TemporaryDirectory()
    let log = RecordingLogHandlerStore()
    let registry = PrometheusCollectorRegistry()
    let metrics: WorkerMetrics

    init() {
        metrics = WorkerMetrics(factory: WorkerMetrics.prometheusFactory(registry: registry))
    }

    var stateDirectory: String { directory.path + "/state" }

    /// The configuration of one activity with `activity` TOML lines (no heartbeats by default).
    func configuration(activity: String = #"heartbeat = "0s""#, worker: String = "") throws -> Configuration {
        let toml = """
            [worker]
            name = "scripted-worker"
            state_directory = "\(stateDirectory)"
            \(worker)
            [[activity]]
            arn = "\(Self.arn)"
            command = ["/bin/true"]
            \(activity)
            """
        return try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/stepworker.toml")
    }

    func activity(_ lines: String = #"heartbeat = "0s""#) throws -> ActivityConfiguration {
        try configuration(activity: lines).activities[0]
    }

    func delivery(jitter: any JitterSource = FixedJitter(0), backoff: RetryPolicy = RetryPolicy(maxAttempts: nil)) -> ResultDelivery {
        ResultDelivery(service: service, clock: clock, jitter: jitter, backoff: backoff, logger: log.logger(), metrics: metrics)
    }

    func ledger(_ delivery: ResultDelivery? = nil) throws -> TaskLedger {
        try TaskLedger(stateDirectory: stateDirectory, delivery: delivery ?? self.delivery(), metrics: metrics)
    }

    func taskRun(ledger: TaskLedger, jitter: any JitterSource = FixedJitter(0)) -> TaskRun {
        TaskRun(
            service: service, runner: runner, ledger: ledger, clock: clock, jitter: jitter, workerName: "scripted-worker",
            daemonEnvironment: [:], logger: log.logger(), metrics: metrics)
    }

    func pool(
        _ activity: ActivityConfiguration, ledger: TaskLedger, backoff: PollBackoff = PollBackoff(),
        jitter: any JitterSource = FixedJitter(0)
    ) -> ActivityPool {
        ActivityPool(
            activity: activity, service: service, taskRun: taskRun(ledger: ledger),
            workerName: "scripted-worker", backoff: backoff, clock: clock, jitter: jitter, logger: log.logger())
    }

    func task(_ name: String, input: String = "{}") -> ActivityTask {
        ActivityTask(token: TaskToken("token-\(name)"), input: input)
    }

    /// The Prometheus exposition, line by line.
    var exposition: [String] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Every "Task finished" entry so far.
    var finishedEntries: [RecordingLogHandlerStore.Entry] {
        log.all.filter { $0.message == "Task finished" }
    }

    /// Waits for the next poll of the activity.
    func nextPoll() async -> Bool {
        await service.events.first(where: { $0 == .polled(activityArn: Self.arn) }, timeout: .seconds(10)) != nil
    }

    /// Ends a pool: drain, release its open polls, wait for its end.
    func finish(_ pool: ActivityPool, running: Task<Void, Never>) async {
        pool.drain()
        service.endPolls()
        await running.value
    }
}
