import Logging
import StepFunctions
import Synchronization

/// One configured activity: `pollers` long polls, `concurrency` slots. A poller takes a slot
/// before it polls, and a task it receives keeps that slot until its result is delivered, so
/// open polls plus running tasks never exceed `concurrency` and a received task starts at once.
///
/// `drain()` stops new polls without aborting open ones (a task handed to an aborted poll would
/// be lost until it times out); a task that arrives during drain is failed at once with
/// `Worker.ShuttingDown`. `run()` returns when every poller and every task has finished.
public final class ActivityPool: Sendable {
    public let activity: ActivityConfiguration
    let service: any ActivityService
    let taskRun: TaskRun
    let delivery: ResultDelivery
    let outbox: ResultOutbox
    let workerName: String
    let backoff: PollBackoff
    let clock: any Clock<Duration>
    let jitter: any JitterSource
    let logger: Logger

    let slots: SlotPool
    let drainSignal = DrainSignal()
    /// Stops the handlers still running when the shutdown grace has run out.
    public let handlers = HandlerStopSwitch()
    private let counterState = Mutex(Counters())

    /// What the pool has done so far, for `STATUS=` and health checks.
    public struct Counters: Sendable, Equatable {
        public var running = 0
        public var succeeded = 0
        public var failed = 0
        public var gone = 0
        /// Polls that returned, with or without a task (watchdog health: pollers make progress).
        public var pollsCompleted = 0
        public var pollErrors = 0

        public init() {}
    }

    public init(
        activity: ActivityConfiguration, service: any ActivityService, taskRun: TaskRun, delivery: ResultDelivery,
        outbox: ResultOutbox, workerName: String, backoff: PollBackoff = PollBackoff(),
        clock: any Clock<Duration> = ContinuousClock(), jitter: any JitterSource = SystemJitter(), logger: Logger
    ) {
        self.activity = activity
        self.service = service
        self.taskRun = taskRun
        self.delivery = delivery
        self.outbox = outbox
        self.workerName = workerName
        self.backoff = backoff
        self.clock = clock
        self.jitter = jitter
        var logger = logger
        logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity.name)"
        self.logger = logger
        self.slots = SlotPool(capacity: activity.concurrency)
    }

    public var counters: Counters { counterState.withLock { $0 } }

    /// Stops polling: pollers finish the poll they have open, then end.
    public func drain() {
        drainSignal.drain()
        slots.close()
    }

    /// Polls and runs tasks until drained and every task has finished.
    public func run() async {
        let (received, inbox) = AsyncStream<ActivityTask>.makeStream()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { pollers in
                    for index in 0..<self.activity.pollers {
                        pollers.addTask { await self.poll(index, inbox: inbox) }
                    }
                }
                inbox.finish()
            }
            for await task in received {
                group.addTask { await self.execute(task) }
            }
        }
    }

    private func poll(_ index: Int, inbox: AsyncStream<ActivityTask>.Continuation) async {
        var failures = 0
        while !drainSignal.isDraining {
            do {
                try await slots.acquire()
            } catch {
                return  // closed: draining
            }
            let task: ActivityTask?
            do {
                task = try await service.getActivityTask(activityArn: activity.arn.description, workerName: workerName)
                failures = 0
                counterState.withLock { $0.pollsCompleted += 1 }
            } catch {
                slots.release()
                failures += 1
                counterState.withLock { $0.pollErrors += 1 }
                let delay = backoff.delay(after: error, failures: failures, unitRandom: jitter.next())
                let level: Logger.Level = (error as? StepFunctionsError)?.kind == .invalidRequest ? .error : .warning
                logger.log(level: level, "Poll failed; backing off", metadata: [
                    "error": "\(error)", "poller": "\(index)", "failures": "\(failures)", "delay_ms": "\(delay.milliseconds)",
                ])
                _ = await drainSignal.sleep(for: delay, on: clock)
                continue
            }
            guard let task else {
                slots.release()
                continue
            }
            if drainSignal.isDraining {
                await refuse(task)
                slots.release()
                return
            }
            inbox.yield(task)  // the slot goes with the task
        }
    }

    /// Runs a received task to its end and gives its slot back.
    private func execute(_ task: ActivityTask) async {
        counterState.withLock { $0.running += 1 }
        defer {
            counterState.withLock { $0.running -= 1 }
            slots.release()
        }
        guard let outcome = try? await taskRun.run(task, activity: activity, stop: handlers) else {
            return  // cancelled: the result, if any, waits in the outbox for the next start
        }
        counterState.withLock { counters in
            switch outcome {
            case .delivered(.success): counters.succeeded += 1
            case .delivered(.failure), .refused: counters.failed += 1
            case .taskGone: counters.gone += 1
            }
        }
    }

    /// A task that arrived after draining began: fail it at once so the state machine can retry it elsewhere.
    private func refuse(_ task: ActivityTask) async {
        logger.info("Task arrived during drain; failing it", metadata: [
            "STEPWORKER_TASK_ID": "\(task.token.fingerprint)", "STEPWORKER_OUTCOME": "\(WorkerFailure.shuttingDownName)",
        ])
        let result = WorkerFailure.shuttingDown()
        outbox.keep(result, token: task.token, activityArn: activity.arn.description, logger: logger)
        _ = try? await delivery.deliver(result, token: task.token)
        counterState.withLock { $0.failed += 1 }
    }
}
