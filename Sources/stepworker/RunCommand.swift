import ArgumentParser
import Logging
import NIOCore
import StepFunctions
import StepWorker
import Systemd

/// `stepworker run [--config FILE]`: the daemon. Exit 0 after a clean stop (SIGTERM or SIGINT),
/// 78 for a bad configuration, 1 for any other fatal error (no region, no credentials, the
/// `[metrics]` address taken, …). SIGHUP reloads the configuration file.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker daemon until SIGTERM or SIGINT; SIGHUP reloads the configuration.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let environment = ProcessEnvironment.current()
        // One event loop for every connection (NIO's default is one per core): each request
        // and response is a hand-off between threads, and with one loop fewer of them wake a
        // sleeping one. One loop spends ~0.15 ms of CPU per task, so it could carry thousands of
        // tasks a second, more than an account's Step Functions quota lets one host take
        // (docs/benchmark.md, "3 December 2026, night"). NIO_SINGLETON_GROUP_LOOP_COUNT overrides.
        if environment["NIO_SINGLETON_GROUP_LOOP_COUNT"] == nil {
            NIOSingletons.groupLoopCountSuggestion = 1
        }
        let loaded = try options.load()
        let logLevel = LoggingSetup.bootstrap(level: loaded.worker.logLevel)
        let logger = Logger(label: "stepworker")
        let configuration = Self.budgetDescriptors(loaded, logger: logger)
        // Bound before anything else, so a taken port stops the start before any task is received.
        var metricsServer: MetricsServer?
        var metrics = WorkerMetrics()
        if let settings = configuration.metrics {
            do {
                let endpoint = try await MetricsServer.bootstrap(settings, logger: logger)
                metricsServer = endpoint.server
                metrics = endpoint.metrics
            } catch {
                logger.critical("Cannot start", metadata: ["error": "\(error)"])
                throw ExitCode(ExitStatus.failure)
            }
        }
        // Every open long poll and every result or heartbeat sent meanwhile needs a connection.
        // Connections open only when needed, so the limit leaves room for reloads that add work.
        let connections = DescriptorBudget.httpConnectionLimit(for: configuration.activities)
        let http = StepFunctionsClient.makeHTTPClient(maxConnectionsPerHost: connections, caBundlePath: environment["AWS_CA_BUNDLE"])
        if environment["AWS_CA_BUNDLE"] != nil {
            do {
                try http.prepareTLS()
            } catch {
                logger.critical("Cannot start", metadata: ["error": "AWS_CA_BUNDLE: \(error)"])
                await metricsServer?.shutdown()
                throw ExitCode(ExitStatus.failure)
            }
        }
        let stopTarget = SignalTarget(), reloadTarget = SignalTarget()
        let signals = SignalSources(logger: logger, stop: { stopTarget.request() }, reload: { reloadTarget.request() })
        defer { signals.cancel() }
        let failed: Bool
        do {
            let supervisor = try await Self.makeSupervisor(
                configuration, environment: environment, http: http, connectionLimit: connections, logLevel: logLevel,
                metrics: metrics, logger: logger, stop: { stopTarget.isRequested })
            stopTarget.attach { supervisor.stop() }
            reloadTarget.attach { supervisor.reload() }
            await supervisor.run()
            failed = false
        } catch where stopTarget.isRequested {
            // A SIGTERM during the start (reading the ledger gives up for it): a clean stop.
            logger.notice("Stopped during the start", metadata: ["error": "\(error)"])
            failed = false
        } catch {
            logger.critical("Cannot start", metadata: ["error": "\(error)"])
            failed = true
        }
        try? await http.shutdown()
        await metricsServer?.shutdown()
        if failed { throw ExitCode(ExitStatus.failure) }
    }

    /// Raises the soft descriptor limit to the hard one (systemd's 1024 would not hold a
    /// thousand polls) and says when even that is less than the configuration may need.
    /// Raises the soft descriptor limit to the hard one (systemd's 1024 would not hold a
    /// thousand polls), keeps the reserve, and returns the configuration scaled down to what the
    /// limit holds (`DescriptorBudget.fitting`), saying so when it had to.
    private static func budgetDescriptors(_ configuration: Configuration, logger: Logger) -> Configuration {
        let (before, after) = DescriptorLimit.raise()
        DescriptorLimit.keepReserve(below: after.soft)
        logger.debug("File descriptor limit", metadata: ["limit": "\(after.soft)", "started_with": "\(before.soft)"])
        return fitted(configuration, limit: after.soft, logger: logger)
    }

    /// `configuration` as the descriptor limit lets it run (at start and at each reload).
    static func fitted(_ configuration: Configuration, limit: UInt64, logger: Logger) -> Configuration {
        let budget = DescriptorBudget(configuration)
        guard let shortfall = budget.shortfall(limit: limit) else { return configuration }
        let fitted = DescriptorBudget.fitting(configuration, limit: limit)
        logger.warning("Too few file descriptors for this configuration; running fewer slots", metadata: [
            "limit": "\(limit)", "needed": "\(budget.total)", "problem": "\(shortfall)",
            "running": "\(DescriptorBudget.reductions(from: configuration, to: fitted).joined(separator: "; "))",
        ])
        return fitted
    }

    private static func makeSupervisor(
        _ configuration: Configuration, environment: [String: String], http: HTTP1Client, connectionLimit: Int,
        logLevel: LogLevelSwitch, metrics: WorkerMetrics, logger: Logger, stop: @escaping @Sendable () -> Bool
    ) async throws -> Supervisor<EventLoopClock> {
        let aws = configuration.aws
        let region = try await RegionResolver.resolve(
            explicit: aws.region, profile: aws.profile, environment: environment, httpClient: http, logger: logger)
        let endpoint = try EndpointResolver.resolve(
            .init(region: region, endpoint: aws.endpoint, useFIPS: aws.useFIPS, useDualStack: aws.useDualStack),
            environment: environment)
        let credentials = CredentialProviderChain.default(
            profile: aws.profile, region: region, environment: environment, httpClient: http, logger: logger)
        _ = try await credentials.credentials()  // fail now, with the reasons, rather than on every poll
        logger.info("Using Step Functions", metadata: ["region": "\(region)", "endpoint": "\(endpoint)"])
        // One limiter for the daemon: every activity's calls share the account's per-API quota.
        var clientConfiguration = StepFunctionsClient.Configuration(endpoint: endpoint)
        clientConfiguration.rateLimiter = AdaptiveRateLimiter(observer: metrics.api)
        let client = StepFunctionsClient(
            configuration: clientConfiguration, credentials: credentials, httpClient: http, logger: logger)
        return try Supervisor(
            configuration: configuration, service: client,
            runner: LambdaRunner(workerName: configuration.worker.name, daemonEnvironment: environment, logger: logger),
            notifier: SystemdNotifier(logger: logger),
            clock: EventLoopClock(), watchdogTimeout: Watchdog<ContinuousClock>.timeoutFromEnvironment(),
            daemonEnvironment: environment,
            loadConfiguration: { [file = configuration.file] in
                fitted(try ConfigurationLoader().load(path: file), limit: DescriptorLimit.current().soft, logger: logger)
            },
            connectionLimit: connectionLimit, logLevel: logLevel, metrics: metrics, logger: logger, stop: stop)
    }
}
