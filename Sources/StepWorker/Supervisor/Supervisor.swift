public import Logging
import POSIXSupport
public import StepFunctions
import Synchronization
public import Systemd

/// The daemon: one `ActivityPool` per configured activity, the ledger replayed at start, systemd
/// told what happens (`READY=1`, `STATUS=`, `STOPPING=1`, `EXTEND_TIMEOUT_USEC=`, watchdog pings).
///
/// `run()` recovers the ledger and starts delivering what it holds, starts every pool, sends
/// `READY=1`, then keeps `STATUS=` current until `stop()`. On `stop()`: `STOPPING=1`, every pool
/// drains (open polls are never aborted), running handlers get `worker.shutdownGrace` and are
/// then stopped (their tasks fail with `Worker.ShuttingDown`), and `EXTEND_TIMEOUT_USEC` keeps
/// systemd waiting meanwhile. `run()` returns when every pool and every delivery has finished,
/// or `deliveryAllowance` after the grace, leaving undelivered results in the ledger.
///
/// On `reload()` (SIGHUP): `RELOADING=1`, the configuration is read again and, when valid and
/// free of changes that need a restart (see `ReloadPlan`), new activities start, removed ones
/// drain and changed ones are updated in place; running handlers are never interrupted. A
/// configuration that is refused leaves the running one as it was, and the log says why.
/// Either way `READY=1` follows.
public final class Supervisor<C: Clock<Duration>>: Sendable {
    let ledger: TaskLedger
    let notifier: any ServiceNotifier
    let clock: C
    let watchdogTimeout: Duration?
    let logger: Logger
    /// How often `STATUS=` is refreshed (when it changed) and how far apart timeout extensions are.
    let statusInterval: Duration
    let extendInterval: Duration
    /// How long after the shutdown grace deliveries may still try (longer than a poll's 70 s).
    let deliveryAllowance: Duration
    /// Reads the configuration again for a reload.
    let loadConfiguration: @Sendable () throws -> Configuration
    /// The most connections the HTTP client opens; a reload needing more is refused. nil = no limit.
    let connectionLimit: Int?
    let logLevel: LogLevelSwitch?
    let makePool: @Sendable (ActivityConfiguration) -> ActivityPool
    let metrics: WorkerMetrics
    /// Every pool's pollers wait while handlers cannot start (`STATUS=` says so).
    let launchPause: LaunchPause

    private let stopRequests: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation
    private let reloadRequests: AsyncStream<Void>
    private let reloadContinuation: AsyncStream<Void>.Continuation
    /// Pools added by a reload, for `run()` to start; finished at stop.
    private let poolStarts: AsyncStream<ActivityPool>
    let poolStartsContinuation: AsyncStream<ActivityPool>.Continuation
    let state: Mutex<State>
    private let stalls: Mutex<StallDetector<C.Instant>>

    struct State {
        var configuration: Configuration
        /// One per configured activity, in the configuration's order.
        var active: [ActivityPool]
        /// Removed by a reload and draining; dropped once their tasks are done.
        var retiring: [ActivityPool] = []
        /// The counts of retired pools that are gone, so `STATUS=` totals never go down.
        var retiredCounters = ActivityPool.Counters()
        var stopping = false

        var everyPool: [ActivityPool] { active + retiring }
    }

    /// - Parameters:
    ///   - watchdogTimeout: systemd's `WATCHDOG_USEC` (`Watchdog.timeoutFromEnvironment()`); nil = off.
    ///   - daemonEnvironment: the daemon's environment, which handlers inherit from.
    ///   - loadConfiguration: reads the configuration for a reload; by default `configuration.file` again.
    ///   - connectionLimit: the HTTP client's connection limit (see `connectionsNeeded(for:)`).
    ///   - logLevel: where a reload's `worker.log_level` goes (`LoggingSetup.bootstrap`'s switch).
    ///   - metrics: where the worker's metrics go (docs/metrics.md).
    ///   - stop: asked while the ledger's journal is read: true gives the start up, and `init`
    ///     throws (a SIGTERM during the start, `DurableFileError` with ECANCELED).
    public init(
        configuration: Configuration, service: any ActivityService, runner: any ProcessRunner,
        notifier: any ServiceNotifier, clock: C, watchdogTimeout: Duration?, daemonEnvironment: [String: String],
        stallLimit: Duration = StallDetector<C.Instant>.defaultLimit, statusInterval: Duration = .seconds(1),
        extendInterval: Duration = .seconds(10), deliveryAllowance: Duration = .seconds(90),
        pollBackoff: PollBackoff = PollBackoff(), loadConfiguration: (@Sendable () throws -> Configuration)? = nil,
        connectionLimit: Int? = nil, logLevel: LogLevelSwitch? = nil, metrics: WorkerMetrics = WorkerMetrics(),
        launchPause: LaunchPause = LaunchPause(), logger: Logger, stop: () -> Bool = { false }
    ) throws {
        self.launchPause = launchPause
        self.notifier = notifier
        self.clock = clock
        self.watchdogTimeout = watchdogTimeout
        self.logger = logger
        self.statusInterval = statusInterval
        self.extendInterval = extendInterval
        self.deliveryAllowance = deliveryAllowance
        let file = configuration.file
        self.loadConfiguration = loadConfiguration ?? { try ConfigurationLoader().load(path: file) }
        self.connectionLimit = connectionLimit
        self.logLevel = logLevel
        self.metrics = metrics
        let delivery = ResultDelivery(service: service, clock: clock, logger: logger, metrics: metrics)
        let ledger = try TaskLedger(
            stateDirectory: configuration.worker.stateDirectory,
            concurrency: configuration.activities.reduce(0) { $0 + $1.concurrency }, delivery: delivery, metrics: metrics,
            stop: stop)
        let taskRun = TaskRun(
            service: service, runner: runner, ledger: ledger, clock: clock,
            workerName: configuration.worker.name, daemonEnvironment: daemonEnvironment, logger: logger, metrics: metrics,
            launchPause: launchPause)
        self.ledger = ledger
        let workerName = configuration.worker.name
        let makePool: @Sendable (ActivityConfiguration) -> ActivityPool = { activity in
            ActivityPool(
                activity: activity, service: service, taskRun: taskRun,
                workerName: workerName, backoff: pollBackoff, clock: clock, logger: logger)
        }
        self.makePool = makePool
        self.state = Mutex(State(configuration: configuration, active: configuration.activities.map(makePool)))
        self.stalls = Mutex(StallDetector(limit: stallLimit))
        (stopRequests, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        (reloadRequests, reloadContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (poolStarts, poolStartsContinuation) = AsyncStream.makeStream(of: ActivityPool.self)
    }

    /// The configuration running now (a reload may have replaced the one given at start).
    public var configuration: Configuration { state.withLock { $0.configuration } }

    /// One pool per configured activity (not those a reload removed and that are still draining).
    public var pools: [ActivityPool] { state.withLock { $0.active } }

    /// Every pool's counters, summed.
    public var counters: SupervisorCounters {
        state.withLock { state in
            SupervisorCounters(state.everyPool.map(\.counters) + [state.retiredCounters], activities: state.active.count)
        }
    }

    /// The connections the HTTP client needs for `activities`: every open poll, and a heartbeat or
    /// result of every running task, plus a few for deliveries of results from a previous run.
    public static func connectionsNeeded(for activities: [ActivityConfiguration]) -> Int {
        activities.reduce(8) { $0 + $1.pollers + $1.concurrency }
    }

    /// Starts draining; `run()` returns once everything has finished. Safe to call from any
    /// thread, any number of times: a second request changes nothing (results that are ready
    /// are still delivered), it is only logged.
    public func stop() {
        let first = state.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first {
            stopContinuation.yield()
            stopContinuation.finish()
            reloadContinuation.finish()
        } else {
            logger.notice("Stop requested again; still draining (pending results are delivered first)")
        }
    }

    /// Asks for a reload (SIGHUP): done by `run()`, one at a time; requests that come while one
    /// runs are folded into one more. Ignored once stopping.
    public func reload() {
        reloadContinuation.yield()
    }

    /// Runs until `stop()` and the drain that follows are complete.
    public func run() async {
        let recovered = await ledger.recover(logger: logger)
        let initialStatus = counters.statusLine
        // The pools and deliveries, as a task the shutdown can cancel once its deadline passed.
        let work = Task {
            await withDiscardingTaskGroup { work in
                for pending in recovered {
                    let activity = self.activityName(arn: pending.activityArn)
                    work.addTask { _ = try? await self.ledger.resume(pending, activity: activity, logger: self.logger) }
                }
                let initial = pools
                for pool in initial {
                    work.addTask { await self.run(pool) }
                }
                notifier.ready(status: initialStatus)
                logger.info("Started", metadata: ["activities": "\(initial.count)", "recovered": "\(recovered.count)"])
                for await pool in poolStarts {
                    work.addTask { await self.run(pool) }
                }
            }
        }
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await self.reportStatus(after: initialStatus) }
            background.addTask { await self.watchdog().run() }
            background.addTask { await self.shutDownWhenAsked(work: work) }
            background.addTask {
                for await _ in self.reloadRequests { self.performReload() }
            }
            await withTaskCancellationHandler {
                await work.value
            } onCancel: {
                work.cancel()
            }
            background.cancelAll()
        }
        await ledger.flush()  // the cleared records nobody waited for
        notifier.status("stopped; " + counters.statusLine)
        await notifier.flush(timeout: .seconds(2))
        logger.info("Stopped", metadata: ["status": "\(counters.statusLine)"])
    }

    /// What the watchdog asks before each ping: unhealthy when a pool's pollers stalled.
    public func health() -> WatchdogHealth {
        let now = clock.now
        let (pools, draining) = state.withLock { ($0.active, $0.stopping) }
        let progress = pools.map { pool in
            let activity = pool.activity
            return StallDetector<C.Instant>.Progress(name: activity.name, counters: pool.counters, capacity: activity.concurrency)
        }
        return stalls.withLock { $0.check(progress, draining: draining, now: now) }
    }

    /// Runs `pool` to its end; a pool a reload removed is then forgotten, its counts kept.
    private func run(_ pool: ActivityPool) async {
        await pool.run()
        state.withLock { state in
            guard let index = state.retiring.firstIndex(where: { $0 === pool }) else { return }
            state.retiring.remove(at: index)
            state.retiredCounters.add(pool.counters)
        }
    }

    /// The configured name of the activity `arn`, else the ARN's own name (a removed activity).
    private func activityName(arn: String) -> String {
        configuration.activities.first { $0.arn.description == arn }?.name ?? ActivityARN(arn)?.name ?? "unknown"
    }

    private func watchdog() -> Watchdog<C> {
        Watchdog(timeout: watchdogTimeout, notifier: notifier, clock: clock, logger: logger) { [self] in health() }
    }

    /// Sends `STATUS=` every `statusInterval` when it changed.
    private func reportStatus(after initial: String) async {
        var last = initial
        while (try? await clock.sleep(for: statusInterval)) != nil {
            var line = counters.statusLine
            if let pause = launchPause.statusNote { line = pause + "; " + line }
            let draining = state.withLock { $0.stopping }
            let status = draining ? "stopping; " + line : line
            if status != last {
                notifier.status(status)
                last = status
            }
        }
    }

    /// Waits for `stop()`, then drains: no new polls, handlers get the shutdown grace, systemd
    /// is asked to wait. Results the service has not taken by `deliveryAllowance` after the
    /// grace (the service is down) stay in the ledger for the next start: `work` is cancelled
    /// then, so the daemon exits rather than waiting for systemd to kill it. The allowance is
    /// longer than a poll, so no open poll is ever cut. Ends when cancelled.
    private func shutDownWhenAsked(work: Task<Void, Never>) async {
        for await _ in stopRequests { break }
        guard !Task.isCancelled else { return }
        // `stop()` set `stopping`, so no reload adds a pool from here on.
        let (grace, pools) = state.withLock { ($0.configuration.worker.shutdownGrace, $0.everyPool) }
        poolStartsContinuation.finish()
        notifier.stopping(status: "stopping; " + counters.statusLine)
        logger.notice("Stopping: draining every activity", metadata: ["shutdown_grace_ms": "\(grace.milliseconds)"])
        for pool in pools { pool.drain() }
        await withDiscardingTaskGroup { group in
            group.addTask {
                guard (try? await self.clock.sleep(for: grace)) != nil else { return }
                let running = self.counters.running
                if running > 0 {
                    self.logger.notice("Shutdown grace is over; stopping running handlers", metadata: ["running": "\(running)"])
                }
                for pool in pools { pool.handlers.stopAll() }
            }
            group.addTask {
                guard (try? await self.clock.sleep(for: grace + self.deliveryAllowance)) != nil else { return }
                self.logger.warning("Results not yet delivered stay in the ledger for the next start", metadata: [
                    "running": "\(self.counters.running)",
                ])
                work.cancel()
            }
            group.addTask {
                repeat {
                    self.notifier.extendTimeout(by: self.extendInterval * 3)
                } while (try? await self.clock.sleep(for: self.extendInterval)) != nil
            }
        }
    }
}
