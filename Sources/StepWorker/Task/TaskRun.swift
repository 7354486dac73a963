import FoundationEssentials
public import Logging
import POSIXSupport
public import StepFunctions
import Systemd

/// One task from receipt to its settlement: journal it in the ledger, start its handler,
/// heartbeat while it runs (`HeartbeatScheduler`, shared by every task: it stops the handler if
/// the service says the task is gone), decide its fate from the run's result (`TaskFate`), and
/// settle it through the ledger.
public struct TaskRun: Sendable {
    let service: any ActivityService
    let runner: any ProcessRunner
    let ledger: TaskLedger
    let heartbeats: HeartbeatScheduler
    let workerName: String
    let daemonEnvironment: [String: String]
    let logger: Logger
    let metrics: WorkerMetrics
    /// Shared by every pool: handlers that cannot start for want of descriptors or processes
    /// pause every poller.
    let launchPause: LaunchPause

    public init(
        service: any ActivityService, runner: any ProcessRunner, ledger: TaskLedger,
        clock: any Clock<Duration> = ContinuousClock(), jitter: any JitterSource = SystemJitter(),
        workerName: String, daemonEnvironment: [String: String], logger: Logger, metrics: WorkerMetrics = WorkerMetrics(),
        launchPause: LaunchPause = LaunchPause()
    ) {
        self.launchPause = launchPause
        self.service = service
        self.runner = runner
        self.ledger = ledger
        self.heartbeats = HeartbeatScheduler(service: service, clock: clock, jitter: jitter)
        self.workerName = workerName
        self.daemonEnvironment = daemonEnvironment
        self.logger = logger
        self.metrics = metrics
    }

    /// The logger of one task: the activity's and the task's fields.
    static func logger(_ base: Logger, activity: String, task: TaskToken) -> Logger {
        var logger = base
        logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity)"
        logger[metadataKey: "STEPWORKER_TASK_ID"] = "\(task.fingerprint)"
        return logger
    }

    /// Runs `task`. When `stop` fires (shutdown grace ran out) the handler is stopped and the
    /// task fails with `Worker.ShuttingDown`. Cancelling the calling task stops the handler too
    /// and throws `CancellationError`, leaving its result in the ledger for the next start.
    public func run(_ task: ActivityTask, activity: ActivityConfiguration, stop: HandlerStopSwitch) async throws -> TaskLedger.Settlement {
        let logger = Self.logger(self.logger, activity: activity.name, task: task.token)
        let started = ContinuousClock.now
        let metrics = self.metrics.activity(activity.name)

        await ledger.begin(task.token, activityArn: activity.arn.description, logger: logger)
        let journaled = ContinuousClock.now
        let invocation = HandlerInvocation(
            activity: activity, workerName: workerName, taskID: task.token.fingerprint, input: Array(task.input.utf8),
            logger: logger, daemonEnvironment: daemonEnvironment, unixTime: Int64(Date().timeIntervalSince1970))
        let handler = runner.start(invocation)
        let attachment = stop.attach(handler)
        defer { stop.detach(attachment) }
        // Heartbeats go on until the result is delivered, not only while the handler runs: a
        // result retried through throttling or an outage would otherwise outlive the task's
        // `HeartbeatSeconds`, and the service would time out a task whose result is on disk.
        let beating = activity.heartbeat.map { interval in
            heartbeats.start(
                .init(token: task.token, logger: logger, handler: handler, metrics: metrics), every: HeartbeatSchedule(interval: interval))
        }
        defer { if let beating { heartbeats.stop(beating) } }
        let runResult = await withTaskCancellationHandler {
            await handler.result()
        } onCancel: {
            handler.terminate(.cancelled)
        }
        metrics.handlerRan(for: ContinuousClock.now - started)
        noteLaunch(runResult, logger: logger)
        logger.debug("Handler finished", metadata: [
            // A warm runtime's error name is in a `functionError` termination: quoted up to a bound.
            "termination": .string("\(runResult.termination)".boundedPrefix(1024)),
            "handler_us": "\(ServiceNotification.microseconds(runResult.duration))",
        ])
        let fate = TaskFate.decide(runResult, activity: activity)
        let settled = ContinuousClock.now
        let settlement = try await ledger.settle(
            fate, token: task.token, activity: activity, started: started,
            stderrLinesDropped: runResult.stderrLinesDropped, logger: logger)
        // For `make bench` (docs/benchmark.md): where a task's time went, in microseconds. The
        // handler's time is spawn to exit as the runner measured it; the rest is the worker's.
        logger.debug("Task timing", metadata: [
            "STEPWORKER_HANDLER_US": "\(ServiceNotification.microseconds(runResult.duration))",
            "STEPWORKER_OVERHEAD_US": "\(ServiceNotification.microseconds(ContinuousClock.now - started - runResult.duration))",
            "STEPWORKER_DELIVERY_US": "\(ServiceNotification.microseconds(ContinuousClock.now - settled))",
            // The in-flight window: poll answer received to the task journaled (docs/daemon.md).
            "STEPWORKER_INFLIGHT_US": "\(ServiceNotification.microseconds(journaled - task.receivedAt))",
        ])
        return settlement
    }

    /// Tells the launch pause whether this handler could start.
    private func noteLaunch(_ result: HandlerRunResult, logger: Logger) {
        guard case .launchFailed(let reason) = result.termination else {
            if launchPause.started() { logger.notice("Handlers start again; taking tasks") }
            return
        }
        guard let code = result.launchErrno, let pause = launchPause.startFailed(errno: code, reason: reason) else { return }
        logger.warning("Cannot start handlers; not taking tasks for a while", metadata: [
            "error": "\(reason)", "pause_ms": "\(pause.milliseconds)",
        ])
    }
}
