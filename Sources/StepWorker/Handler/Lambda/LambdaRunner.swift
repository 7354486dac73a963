public import Logging
import Synchronization

/// The `ProcessRunner` of the daemon and of `stepworker invoke`: tasks of `protocol = "stdio"`
/// activities go to `stdio` (one process per task), those of `protocol = "lambda"` activities
/// to the activity's `WarmProcessPool` (long-lived processes that speak the Lambda Runtime
/// API). Either way `TaskRun` gets a `RunningHandler` and a `HandlerRunResult`, so the ledger,
/// heartbeats, drain and `TaskFate` are one path.
public final class LambdaRunner: ProcessRunner {
    let stdio: any ProcessRunner
    let workerName: String
    let daemonEnvironment: [String: String]
    let logger: Logger
    /// By activity ARN.
    private let pools = Mutex<[String: WarmProcessPool]>([:])

    /// - Parameters:
    ///   - stdio: starts every process, warm ones included (own session, clean environment,
    ///     identity, stderr to the journal).
    public init(stdio: any ProcessRunner = SubprocessRunner(), workerName: String, daemonEnvironment: [String: String], logger: Logger) {
        self.stdio = stdio
        self.workerName = workerName
        self.daemonEnvironment = daemonEnvironment
        self.logger = logger
    }

    public func start(_ invocation: HandlerInvocation) -> any RunningHandler {
        guard let activity = invocation.activity, activity.handlerProtocol == .lambda else { return stdio.start(invocation) }
        // From a poll the pool exists already, sized by `reserve`; `stepworker invoke` needs one process.
        return pool(for: activity, minimumSize: 1).start(invocation)
    }

    public func reserve(for activity: ActivityConfiguration, until drain: DrainSignal) async -> HandlerReservation? {
        guard activity.handlerProtocol == .lambda else {
            // A reload turned a lambda activity into a stdio one: its warm processes go.
            if let old = pools.withLock({ $0.removeValue(forKey: activity.arn.description) }) { await old.retire() }
            return drain.isDraining ? nil : .immediate
        }
        return await pool(for: activity, size: activity.concurrency).reserve(until: drain)
    }

    public func retire(_ activity: ActivityConfiguration) async {
        await pools.withLock { $0.removeValue(forKey: activity.arn.description) }?.retire()
    }

    /// The warm processes kept for `activity` now (for tests and the bench).
    public func warmProcessCount(for activity: ActivityConfiguration) -> Int {
        pools.withLock { $0[activity.arn.description] }?.slotCount ?? 0
    }

    private func pool(for activity: ActivityConfiguration, size: Int? = nil, minimumSize: Int = 0) -> WarmProcessPool {
        let spec = WarmSpec(activity: activity, workerName: workerName, daemonEnvironment: daemonEnvironment)
        let pool = pools.withLock { pools in
            if let pool = pools[activity.arn.description] { return pool }
            var logger = self.logger
            logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity.name)"
            let pool = WarmProcessPool(spec: spec, runner: stdio, logger: logger)
            pools[activity.arn.description] = pool
            return pool
        }
        pool.configure(spec, size: size ?? max(minimumSize, pool.slotCount))
        return pool
    }
}
