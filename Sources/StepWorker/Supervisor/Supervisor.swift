import Logging
import StepFunctions
import Synchronization
import Systemd

/// The daemon: one `ActivityPool` per configured activity, the outbox replayed at start, systemd
/// told what happens (`READY=1`, `STATUS=`, `STOPPING=1`, `EXTEND_TIMEOUT_USEC=`, watchdog pings).
///
/// `run()` recovers the outbox and starts delivering what it holds, starts every pool, sends
/// `READY=1`, then keeps `STATUS=` current until `stop()`. On `stop()`: `STOPPING=1`, every pool
/// drains (open polls are never aborted), running handlers get `worker.shutdownGrace` and are
/// then stopped (their tasks fail with `Worker.ShuttingDown`), and `EXTEND_TIMEOUT_USEC` keeps
/// systemd waiting meanwhile. `run()` returns when every pool and every delivery has finished,
/// or `deliveryAllowance` after the grace, leaving undelivered results in the outbox.
public final class Supervisor<C: Clock<Duration>>: Sendable {
    public let configuration: Configuration
    public let pools: [ActivityPool]
    let outbox: ResultOutbox
    let delivery: ResultDelivery
    let notifier: any ServiceNotifier
    let clock: C
    let watchdogTimeout: Duration?
    let logger: Logger
    /// How often `STATUS=` is refreshed (when it changed) and how far apart timeout extensions are.
    let statusInterval: Duration
    let extendInterval: Duration
    /// How long after the shutdown grace deliveries may still try (longer than a poll's 70 s).
    let deliveryAllowance: Duration

    private let stopRequests: AsyncStream<Void>
    private let stopContinuation: AsyncStream<Void>.Continuation
    private let stopping = Mutex(false)
    private let stalls: Mutex<StallDetector<C.Instant>>

    /// - Parameters:
    ///   - watchdogTimeout: systemd's `WATCHDOG_USEC` (`Watchdog.timeoutFromEnvironment()`); nil = off.
    ///   - daemonEnvironment: the daemon's environment, which handlers inherit from.
    public init(
        configuration: Configuration, service: any ActivityService, runner: any ProcessRunner,
        notifier: any ServiceNotifier, clock: C, watchdogTimeout: Duration?, daemonEnvironment: [String: String],
        stallLimit: Duration = StallDetector<C.Instant>.defaultLimit, statusInterval: Duration = .seconds(1),
        extendInterval: Duration = .seconds(10), deliveryAllowance: Duration = .seconds(90),
        pollBackoff: PollBackoff = PollBackoff(), logger: Logger
    ) throws {
        self.configuration = configuration
        self.notifier = notifier
        self.clock = clock
        self.watchdogTimeout = watchdogTimeout
        self.logger = logger
        self.statusInterval = statusInterval
        self.extendInterval = extendInterval
        self.deliveryAllowance = deliveryAllowance
        let outbox = try ResultOutbox(stateDirectory: configuration.worker.stateDirectory)
        let delivery = ResultDelivery(service: service, outbox: outbox, clock: clock, logger: logger)
        let taskRun = TaskRun(
            service: service, runner: runner, outbox: outbox, delivery: delivery, clock: clock,
            workerName: configuration.worker.name, daemonEnvironment: daemonEnvironment, logger: logger)
        self.outbox = outbox
        self.delivery = delivery
        self.pools = configuration.activities.map { activity in
            ActivityPool(
                activity: activity, service: service, taskRun: taskRun, delivery: delivery, outbox: outbox,
                workerName: configuration.worker.name, backoff: pollBackoff, clock: clock, logger: logger)
        }
        self.stalls = Mutex(StallDetector(pools: configuration.activities.count, limit: stallLimit))
        (stopRequests, stopContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// Every pool's counters, summed.
    public var counters: SupervisorCounters {
        SupervisorCounters(pools.map(\.counters))
    }

    /// Starts draining; `run()` returns once everything has finished. Safe to call from any
    /// thread, any number of times: a second request changes nothing (results that are ready
    /// are still delivered), it is only logged.
    public func stop() {
        let first = stopping.withLock { stopping in
            defer { stopping = true }
            return !stopping
        }
        if first {
            stopContinuation.yield()
            stopContinuation.finish()
        } else {
            logger.notice("Stop requested again; still draining (pending results are delivered first)")
        }
    }

    /// Runs until `stop()` and the drain that follows are complete.
    public func run() async {
        let recovered = recoverOutbox()
        let initialStatus = counters.statusLine
        // The pools and deliveries, as a task the shutdown can cancel once its deadline passed.
        let work = Task {
            await withDiscardingTaskGroup { work in
                for pending in recovered {
                    work.addTask { _ = try? await self.delivery.deliver(pending.result, token: pending.token) }
                }
                for pool in pools {
                    work.addTask { await pool.run() }
                }
                notifier.ready(status: initialStatus)
                logger.info("Started", metadata: ["activities": "\(pools.count)", "recovered": "\(recovered.count)"])
            }
        }
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await self.reportStatus(after: initialStatus) }
            background.addTask { await self.watchdog().run() }
            background.addTask { await self.shutDownWhenAsked(work: work) }
            await withTaskCancellationHandler {
                await work.value
            } onCancel: {
                work.cancel()
            }
            background.cancelAll()
        }
        notifier.status("stopped; " + counters.statusLine)
        logger.info("Stopped", metadata: ["status": "\(counters.statusLine)"])
    }

    /// What the watchdog asks before each ping: unhealthy when a pool's pollers stalled.
    public func health() -> WatchdogHealth {
        let now = clock.now
        let draining = stopping.withLock { $0 }
        let counters = pools.map(\.counters)
        return stalls.withLock {
            $0.check(counters, capacities: pools.map(\.activity.concurrency), draining: draining, now: now,
                     names: pools.map(\.activity.name))
        }
    }

    private func recoverOutbox() -> [ResultOutbox.Pending] {
        do {
            let (pending, unreadable) = try outbox.recover()
            for file in unreadable {
                logger.error("Unreadable outbox record moved aside", metadata: ["file": "\(file)"])
            }
            if !pending.isEmpty {
                logger.notice("Delivering results left by a previous run", metadata: ["count": "\(pending.count)"])
            }
            return pending
        } catch {
            logger.error("Cannot read the outbox; results left by a previous run wait for the next start",
                         metadata: ["error": "\(error)"])
            return []
        }
    }

    private func watchdog() -> Watchdog<C> {
        Watchdog(timeout: watchdogTimeout, notifier: notifier, clock: clock, logger: logger) { [self] in health() }
    }

    /// Sends `STATUS=` every `statusInterval` when it changed.
    private func reportStatus(after initial: String) async {
        var last = initial
        while (try? await clock.sleep(for: statusInterval)) != nil {
            let line = counters.statusLine
            let draining = stopping.withLock { $0 }
            let status = draining ? "stopping; " + line : line
            if status != last {
                notifier.status(status)
                last = status
            }
        }
    }

    /// Waits for `stop()`, then drains: no new polls, handlers get the shutdown grace, systemd
    /// is asked to wait. Results the service has not taken by `deliveryAllowance` after the
    /// grace (the service is down) stay in the outbox for the next start: `work` is cancelled
    /// then, so the daemon exits rather than waiting for systemd to kill it. The allowance is
    /// longer than a poll, so no open poll is ever cut. Ends when cancelled.
    private func shutDownWhenAsked(work: Task<Void, Never>) async {
        for await _ in stopRequests { break }
        guard !Task.isCancelled else { return }
        let grace = configuration.worker.shutdownGrace
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
                for pool in self.pools { pool.handlers.stopAll() }
            }
            group.addTask {
                guard (try? await self.clock.sleep(for: grace + self.deliveryAllowance)) != nil else { return }
                self.logger.warning("Results not yet delivered stay in the outbox for the next start", metadata: [
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
