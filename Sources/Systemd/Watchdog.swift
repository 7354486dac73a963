import CSystemd
public import Logging

/// Pings systemd's watchdog (`WATCHDOG=1`) every half `WATCHDOG_USEC`, only while a health
/// check passes: a daemon that is alive but stuck stops pinging and systemd restarts it
/// (`WatchdogSec=` in the unit, `Restart=on-failure`).
///
/// A health check that never returns withholds pings too, which is what a wedged daemon should
/// look like. `run()` returns when its task is cancelled (after the health check in progress
/// returns: make it honour cancellation), or at once when the watchdog is off.
///
/// ```swift
/// let watchdog = Watchdog(notifier: notifier, logger: logger) {
///     await supervisor.isMakingProgress() ? .healthy : .unhealthy("pollers stalled")
/// }
/// group.addTask { await watchdog.run() }
/// ```
public struct Watchdog<C: Clock<Duration>>: Sendable {
    /// Time between pings; nil when the watchdog is off.
    public let pingInterval: Duration?
    private let notifier: any ServiceNotifier
    private let clock: C
    private let logger: Logger
    private let healthCheck: @Sendable () async -> WatchdogHealth

    /// - Parameters:
    ///   - timeout: systemd's watchdog timeout (`Watchdog.timeoutFromEnvironment()`); nil = off.
    ///   - clock: the clock to sleep on (a test clock in tests).
    ///   - healthCheck: asked before every ping.
    public init(
        timeout: Duration?,
        notifier: any ServiceNotifier,
        clock: C,
        logger: Logger,
        healthCheck: @escaping @Sendable () async -> WatchdogHealth
    ) {
        self.pingInterval = timeout.flatMap { $0 > .zero ? WatchdogStateMachine.pingInterval(forTimeout: $0) : nil }
        self.notifier = notifier
        self.clock = clock
        self.logger = logger
        self.healthCheck = healthCheck
    }

    /// Pings until cancelled; returns at once when the watchdog is off.
    public func run() async {
        guard let interval = pingInterval else {
            logger.debug("Systemd watchdog is off")
            return
        }
        logger.debug("Systemd watchdog on", metadata: ["ping_interval_ms": "\(ServiceNotification.microseconds(interval) / 1_000)"])
        var machine = WatchdogStateMachine()
        var deadline = clock.now
        while !Task.isCancelled {
            let health = await healthCheck()
            guard !Task.isCancelled else { return }
            perform(machine.checked(health))
            deadline = deadline.advanced(by: interval)
            let now = clock.now
            if deadline < now { deadline = now }  // a slow check: ping late, do not burst
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
        }
    }

    private func perform(_ action: WatchdogStateMachine.Action) {
        switch action {
        case .ping:
            notifier.watchdogPing()
        case .pingAfterRecovery(let missed):
            notifier.watchdogPing()
            logger.notice("Health check passes again; watchdog pings resumed", metadata: ["STEPWORKER_MISSED_PINGS": "\(missed)"])
        case .withholdAndReport(let reason):
            logger.warning("Health check failed; withholding watchdog pings", metadata: ["STEPWORKER_HEALTH": "\(reason)"])
        case .withhold:
            break
        }
    }
}

extension Watchdog {
    /// Like the designated initializer, for a health check that answers yes or no.
    public init(
        timeout: Duration?,
        notifier: any ServiceNotifier,
        clock: C,
        logger: Logger,
        isHealthy: @escaping @Sendable () async -> Bool
    ) {
        self.init(timeout: timeout, notifier: notifier, clock: clock, logger: logger) {
            await isHealthy() ? .healthy : .unhealthy("health check failed")
        }
    }

    /// The watchdog timeout systemd expects pings within (`WATCHDOG_USEC`), read with
    /// `sd_watchdog_enabled(3)`; nil when it is off or meant for another process (`WATCHDOG_PID`).
    public static func timeoutFromEnvironment() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(microseconds)
    }
}

extension Watchdog where C == ContinuousClock {
    /// A watchdog on the real clock, with the timeout systemd gave this process (if any).
    public init(
        notifier: any ServiceNotifier,
        logger: Logger,
        healthCheck: @escaping @Sendable () async -> WatchdogHealth
    ) {
        self.init(
            timeout: Self.timeoutFromEnvironment(),
            notifier: notifier,
            clock: ContinuousClock(),
            logger: logger,
            healthCheck: healthCheck
        )
    }
}
