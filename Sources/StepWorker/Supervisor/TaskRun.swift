import Foundation
import Logging
import StepFunctions
import Synchronization
import Systemd

/// One task from receipt to delivered result: journal it, start its handler, heartbeat while it
/// runs, stop the handler if the service says the task is gone, map the outcome, keep it in the
/// outbox, deliver it.
public struct TaskRun: Sendable {
    public enum Outcome: Sendable, Equatable {
        case delivered(TaskResult)
        /// The service said the task is gone (while it ran or when its result was sent).
        case taskGone
        case refused(TaskResult)
    }

    let service: any ActivityService
    let runner: any ProcessRunner
    let outbox: ResultOutbox
    let delivery: ResultDelivery
    let clock: any Clock<Duration>
    let jitter: any JitterSource
    let workerName: String
    let daemonEnvironment: [String: String]
    let logger: Logger
    let metrics: WorkerMetrics

    public init(
        service: any ActivityService, runner: any ProcessRunner, outbox: ResultOutbox, delivery: ResultDelivery,
        clock: any Clock<Duration> = ContinuousClock(), jitter: any JitterSource = SystemJitter(),
        workerName: String, daemonEnvironment: [String: String], logger: Logger, metrics: WorkerMetrics = WorkerMetrics()
    ) {
        self.service = service
        self.runner = runner
        self.outbox = outbox
        self.delivery = delivery
        self.clock = clock
        self.jitter = jitter
        self.workerName = workerName
        self.daemonEnvironment = daemonEnvironment
        self.logger = logger
        self.metrics = metrics
    }

    /// Runs `task`. When `stop` fires (shutdown grace ran out) the handler is stopped and the
    /// task fails with `Worker.ShuttingDown`. Cancelling the calling task stops the handler too
    /// and throws `CancellationError`, leaving any result in the outbox for the next start.
    /// Outbox errors (a full disk) are logged and the task goes on without crash protection:
    /// running it beats failing it.
    public func run(_ task: ActivityTask, activity: ActivityConfiguration, stop: HandlerStopSwitch) async throws -> Outcome {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity.name)"
            logger[metadataKey: "STEPWORKER_TASK_ID"] = "\(task.token.fingerprint)"
            return logger
        }()
        let started = ContinuousClock.now
        let metrics = self.metrics.activity(activity.name)

        do {
            let (outbox, token, arn) = (self.outbox, task.token, activity.arn.description)
            try await BlockingIO.run { try outbox.recordStarted(token: token, activityArn: arn) }
        } catch {
            logger.error("Could not journal the task; running it without crash protection", metadata: ["error": "\(error)"])
        }
        let invocation = HandlerInvocation(
            activity: activity, workerName: workerName, taskID: task.token.fingerprint, input: Array(task.input.utf8),
            logger: logger, daemonEnvironment: daemonEnvironment, unixTime: Int64(Date().timeIntervalSince1970))
        let handler = runner.start(invocation)
        let attachment = stop.attach(handler)
        defer { stop.detach(attachment) }
        let (runResult, gone) = await withTaskGroup(of: Bool.self) { group in
            if let interval = activity.heartbeat {
                group.addTask {
                    await heartbeat(task.token, every: HeartbeatSchedule(interval: interval), logger: logger, handler: handler, metrics: metrics)
                }
            }
            let result = await withTaskCancellationHandler {
                await handler.result()
            } onCancel: {
                handler.terminate()
            }
            group.cancelAll()
            var gone = false
            for await heartbeatSawTaskGone in group { gone = gone || heartbeatSawTaskGone }
            return (result, gone)
        }
        metrics.handlerRan(for: ContinuousClock.now - started)

        if gone {
            logger.info("Task is gone; handler stopped", metadata: ["STEPWORKER_OUTCOME": "gone"])
            outbox.forgetLogging(token: task.token, logger: logger)
            return .taskGone
        }
        var result = HandlerOutcome.map(runResult, activity: activity)
        if case .stopped = runResult.termination, stop.isStopping {
            result = WorkerFailure.shuttingDown("the worker stopped while the handler ran (shutdown_grace ran out)")
        }
        let (outbox, token, arn, kept) = (self.outbox, task.token, activity.arn.description, result)
        await BlockingIO.run { outbox.keep(kept, token: token, activityArn: arn, logger: logger) }
        let outcomeName: String
        switch result {
        case .success: outcomeName = "succeeded"
        case .failure(let error, _): outcomeName = error
        }
        logger.info("Handler finished", metadata: [
            "STEPWORKER_OUTCOME": "\(outcomeName)",
            "STEPWORKER_DURATION_MS": "\((ContinuousClock.now - started).milliseconds)",
        ])

        let handled = ContinuousClock.now
        let delivered = try await delivery.deliver(result, token: task.token, activity: activity.name)
        // For `make bench` (docs/benchmark.md): where a task's time went, in microseconds. The
        // handler's time is spawn to exit as the runner measured it; the rest is the worker's.
        logger.debug("Task timing", metadata: [
            "STEPWORKER_HANDLER_US": "\(ServiceNotification.microseconds(runResult.duration))",
            "STEPWORKER_OVERHEAD_US": "\(ServiceNotification.microseconds(ContinuousClock.now - started - runResult.duration))",
            "STEPWORKER_DELIVERY_US": "\(ServiceNotification.microseconds(ContinuousClock.now - handled))",
        ])
        switch delivered {
        case .delivered: return .delivered(result)
        case .taskGone: return .taskGone
        case .refused: return .refused(result)
        }
    }

    /// Sends heartbeats until cancelled. When the service says the task is gone, stops the
    /// handler and returns true. Throttling and other errors are logged and the next heartbeat
    /// comes on schedule (the client has already retried within the interval).
    func heartbeat(
        _ token: TaskToken, every schedule: HeartbeatSchedule, logger: Logger, handler: any RunningHandler, metrics: ActivityMetrics
    ) async -> Bool {
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: schedule.delay(unitRandom: jitter.next()))
                try await service.sendTaskHeartbeat(token: token)
                metrics.heartbeat(.ok)
            } catch is CancellationError {
                return false
            } catch let error as StepFunctionsError where error.kind == .taskGone {
                metrics.heartbeat(.gone)
                logger.info("Heartbeat answered that the task is gone", metadata: ["error": "\(error.code)"])
                handler.terminate()
                return true
            } catch {
                metrics.heartbeat(.error)
                logger.warning("Heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
        return false
    }
}

/// Lets shutdown stop every running handler once its grace has run out.
public final class HandlerStopSwitch: Sendable {
    private struct State {
        var stopping = false
        var handlers: [UInt64: any RunningHandler] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Tracks `handler` until `detach`; stops it at once if stopping already began.
    func attach(_ handler: any RunningHandler) -> UInt64 {
        let (id, stopNow) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            if !state.stopping { state.handlers[state.nextID] = handler }
            return (state.nextID, state.stopping)
        }
        if stopNow { handler.terminate() }
        return id
    }

    func detach(_ id: UInt64) {
        _ = state.withLock { $0.handlers.removeValue(forKey: id) }
    }

    /// Stops every attached handler and any attached later.
    public func stopAll() {
        let handlers = state.withLock { state in
            state.stopping = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler.terminate() }
    }
}
