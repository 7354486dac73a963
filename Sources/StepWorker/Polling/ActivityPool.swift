public import Logging
import POSIXSupport
public import StepFunctions
import Synchronization

/// One configured activity: `pollers` long polls, `concurrency` slots. A poller takes a slot
/// before it polls, and a task it receives keeps that slot until its result is delivered, so
/// open polls plus running tasks never exceed `concurrency` and a received task starts at once.
///
/// `drain()` stops new polls without aborting open ones (a task handed to an aborted poll would
/// be lost until it times out); a task that arrives during drain is failed at once with
/// `Worker.ShuttingDown`. `run()` returns when every poller and every task has finished.
///
/// `update(to:)` (a reload) applies new settings of the same activity: tasks received from then
/// on run with them, capacity and pollers change at once, and running handlers are untouched. A
/// shrunk pool gets there as slots are released; surplus pollers end after their open poll.
///
/// With as many pollers as slots (the default) a poller runs the task it received itself and
/// polls again when it is settled; with fewer, it hands the task to the pool's task group and
/// polls again as soon as a slot is free.
public final class ActivityPool: Sendable {
    let service: any ActivityService
    let taskRun: TaskRun
    let workerName: String
    let backoff: PollBackoff
    let clock: any Clock<Duration>
    let jitter: any JitterSource
    private let baseLogger: Logger

    let slots: SlotPool
    let drainSignal = DrainSignal()
    /// Stops the handlers still running when the shutdown grace has run out.
    public let handlers = HandlerStopSwitch()
    private let counterState = Mutex(Counters())
    private let settings: Mutex<Settings>
    /// Poller indices to start; finished by `drain()`.
    private let pollerStarts: AsyncStream<Int>
    private let pollerStartsContinuation: AsyncStream<Int>.Continuation

    /// What a reload may change, and which pollers run.
    private struct Settings {
        var activity: ActivityConfiguration
        /// Pollers with an index at or above `activity.pollers` end before their next poll.
        var liveIndices: Set<Int> = []
        var draining = false

        /// Indices below `activity.pollers` that have no poller; marks them live.
        mutating func missingPollers() -> [Int] {
            guard !draining else { return [] }
            let missing = (0..<activity.pollers).filter { !liveIndices.contains($0) }
            liveIndices.formUnion(missing)
            return missing
        }
    }

    /// What the pool has done so far, for `STATUS=` and health checks.
    public struct Counters: Sendable, Equatable {
        public var running = 0
        public var succeeded = 0
        public var failed = 0
        public var gone = 0
        /// Polls that returned, with or without a task (watchdog health: pollers make progress).
        public var pollsCompleted = 0
        public var pollErrors = 0
        /// Pollers waiting for a handler to take their task (a warm process in `/next`) before
        /// they may poll: not a stall.
        public var waitingForHandler = 0

        public init() {}

        /// Adds `other`'s totals (not `running`: a pool's running count ends at zero).
        mutating func add(_ other: Counters) {
            succeeded += other.succeeded
            failed += other.failed
            gone += other.gone
            pollsCompleted += other.pollsCompleted
            pollErrors += other.pollErrors
        }
    }

    public init(
        activity: ActivityConfiguration, service: any ActivityService, taskRun: TaskRun,
        workerName: String, backoff: PollBackoff = PollBackoff(),
        clock: any Clock<Duration> = ContinuousClock(), jitter: any JitterSource = SystemJitter(), logger: Logger
    ) {
        self.service = service
        self.taskRun = taskRun
        self.workerName = workerName
        self.backoff = backoff
        self.clock = clock
        self.jitter = jitter
        self.baseLogger = logger
        self.slots = SlotPool(capacity: activity.concurrency)
        self.settings = Mutex(Settings(activity: activity))
        (pollerStarts, pollerStartsContinuation) = AsyncStream.makeStream(of: Int.self)
        startMissingPollers()
        metrics.capacity(activity.concurrency)
    }

    /// The settings new tasks run with (a reload may change them).
    public var activity: ActivityConfiguration { settings.withLock { $0.activity } }

    public var counters: Counters { counterState.withLock { $0 } }

    /// Pollers running now (surplus ones from a shrink count until their open poll returned).
    public var pollerCount: Int { settings.withLock { $0.liveIndices.count } }

    /// This activity's metrics (under its current name).
    private var metrics: ActivityMetrics { taskRun.metrics.activity(activity.name) }

    var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity.name)"
        return logger
    }

    /// Stops polling: pollers finish the poll they have open, then end.
    public func drain() {
        settings.withLock { $0.draining = true }
        pollerStartsContinuation.finish()
        drainSignal.drain()
        slots.close()
    }

    /// Applies a reload's settings for this activity (same ARN): capacity, pollers, and how
    /// tasks received from now on run. Running handlers keep the settings they started with.
    public func update(to activity: ActivityConfiguration) {
        precondition(activity.arn == self.activity.arn, "a pool's activity ARN never changes")
        let oldName = self.activity.name
        settings.withLock { $0.activity = activity }
        if oldName != activity.name { taskRun.metrics.activity(oldName).capacity(0) }
        metrics.capacity(activity.concurrency)
        slots.resize(to: activity.concurrency)
        startMissingPollers()
    }

    private func startMissingPollers() {
        // Under the lock, so a concurrent drain() cannot finish the stream between the two steps.
        settings.withLock { settings in
            for index in settings.missingPollers() { pollerStartsContinuation.yield(index) }
        }
    }

    /// True (and the poller is gone from the books) when a reload left fewer pollers than `index`.
    private func retireIfSurplus(_ index: Int) -> Bool {
        settings.withLock { settings in
            guard index >= settings.activity.pollers else { return false }
            settings.liveIndices.remove(index)
            return true
        }
    }

    /// Polls and runs tasks until drained and every task has finished.
    public func run() async {
        let (received, inbox) = AsyncStream<ActivityTask>.makeStream()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withDiscardingTaskGroup { pollers in
                    for await index in self.pollerStarts {
                        pollers.addTask { await self.poll(index, inbox: inbox) }
                    }
                }
                inbox.finish()
            }
            for await task in received {
                group.addTask { await self.execute(task) }
            }
        }
        await taskRun.runner.retire(activity)  // warm handlers: their processes stop now
    }

    private func poll(_ index: Int, inbox: AsyncStream<ActivityTask>.Continuation) async {
        var failures = 0
        while !drainSignal.isDraining, !retireIfSurplus(index) {
            do {
                try await slots.acquire()
            } catch {
                return  // closed: draining
            }
            if retireIfSurplus(index) {
                slots.release()
                return
            }
            // Handlers cannot start (descriptors, processes): a task polled now would only fail.
            if await !waitOutLaunchPause() {
                slots.release()
                return  // draining
            }
            // A poll opens only when a handler can take its task at once (a warm process in /next).
            counterState.withLock { $0.waitingForHandler += 1 }
            let reservation = await taskRun.runner.reserve(for: activity, until: drainSignal)
            counterState.withLock { $0.waitingForHandler -= 1 }
            guard let reservation else {
                slots.release()
                return  // draining
            }
            let logger = self.logger
            let task: ActivityTask?
            do {
                task = try await service.getActivityTask(activityArn: activity.arn.description, workerName: workerName)
                failures = 0
                counterState.withLock { $0.pollsCompleted += 1 }
                metrics.polled(task == nil ? .empty : .task)
            } catch {
                reservation.release()
                slots.release()
                failures += 1
                counterState.withLock { $0.pollErrors += 1 }
                metrics.polled(.error)
                let delay = backoff.delay(after: error, failures: failures, unitRandom: jitter.next())
                let level: Logger.Level = (error as? StepFunctionsError)?.kind == .invalidRequest ? .error : .warning
                logger.log(level: level, "Poll failed; backing off", metadata: [
                    "error": "\(error)", "poller": "\(index)", "failures": "\(failures)", "delay_ms": "\(delay.milliseconds)",
                ])
                _ = await drainSignal.sleep(for: delay, on: clock)
                continue
            }
            guard let task else {
                reservation.release()
                slots.release()
                continue
            }
            if drainSignal.isDraining {
                reservation.release()
                await refuse(task)
                slots.release()
                return
            }
            // The slot and the reservation go with the task. With a poller for every slot, the
            // poller runs the task itself: there is no free slot for it to poll with until a task
            // ends, and handing the task to the pool's group would cost two more task switches
            // (the inbox's consumer, then a child task) on every task's path.
            if settings.withLock({ $0.activity.pollers >= $0.activity.concurrency }) {
                await execute(task)
            } else {
                inbox.yield(task)
            }
        }
    }

    /// Waits while `TaskRun.launchPause` holds every poller back; false when draining began.
    /// A waiting poller counts as waiting for a handler (not a stall to the watchdog).
    private func waitOutLaunchPause() async -> Bool {
        guard taskRun.launchPause.remaining != nil else { return true }
        counterState.withLock { $0.waitingForHandler += 1 }
        defer { counterState.withLock { $0.waitingForHandler -= 1 } }
        while let pause = taskRun.launchPause.remaining {
            guard await drainSignal.sleep(for: pause, on: clock) else { return false }
        }
        return !drainSignal.isDraining
    }

    /// Runs a received task to its end and gives its slot back.
    private func execute(_ task: ActivityTask) async {
        let metrics = self.metrics
        counterState.withLock { $0.running += 1 }
        metrics.taskStarted()
        defer {
            counterState.withLock { $0.running -= 1 }
            metrics.taskEnded()
            slots.release()
        }
        guard let settlement = try? await taskRun.run(task, activity: self.activity, stop: handlers) else {
            return  // cancelled: the result, if any, waits in the ledger for the next start
        }
        count(settlement, metrics: metrics)
    }

    /// A task that arrived after draining began: fail it at once so the state machine can retry
    /// it elsewhere. It is settled through the ledger like every other task.
    private func refuse(_ task: ActivityTask) async {
        let activity = self.activity
        let logger = TaskRun.logger(baseLogger, activity: activity.name, task: task.token)
        logger.info("Task arrived during drain; failing it")
        let started = ContinuousClock.now
        guard let settlement = try? await taskRun.ledger.settle(
            TaskFate.arrivedDuringDrain, token: task.token, activity: activity, started: started, logger: logger)
        else { return }
        count(settlement, metrics: metrics, arrivedDuringDrain: true)
    }

    /// Counts a settled task in `STATUS=` and the metrics, as the service recorded it.
    private func count(_ settlement: TaskLedger.Settlement, metrics: ActivityMetrics, arrivedDuringDrain: Bool = false) {
        counterState.withLock { counters in
            switch settlement {
            case .reported(.success): counters.succeeded += 1
            case .reported(.failure), .dropped: counters.failed += 1
            case .gone: counters.gone += 1
            }
        }
        metrics.finished(arrivedDuringDrain ? .refused : WorkerMetrics.TaskOutcome(settlement))
    }
}
