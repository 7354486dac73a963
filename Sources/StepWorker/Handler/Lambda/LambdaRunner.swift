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
    /// By activity ARN: the pool, and the drain signals of the activity pools that reserved from
    /// it (a reload can remove an activity and add it back while the old pool still drains; the
    /// old one's end must not stop the processes the new one uses).
    private let pools = Mutex<[String: (pool: WarmProcessPool, users: [DrainSignal])]>([:])
    /// `pools.count`, readable without the lock: a stdio poll (the common case, once per poll)
    /// checks it instead of taking the lock and building the ARN's text.
    private let poolCount = Atomic<Int>(0)

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
            if poolCount.load(ordering: .relaxed) > 0, let old = pools.withLock({ pools in
                defer { poolCount.store(pools.count, ordering: .relaxed) }
                return pools.removeValue(forKey: activity.arn.description)
            }) {
                await old.pool.retire()
            }
            return drain.isDraining ? nil : .immediate
        }
        return await pool(for: activity, size: activity.concurrency, user: drain).reserve(until: drain)
    }

    /// Stops `activity`'s warm processes, unless an activity pool that is not draining still
    /// uses them.
    public func retire(_ activity: ActivityConfiguration) async {
        let retired: WarmProcessPool? = pools.withLock { pools in
            let key = activity.arn.description
            guard var entry = pools[key] else { return nil }
            entry.users.removeAll { $0.isDraining }
            if !entry.users.isEmpty {
                pools[key] = entry
                return nil
            }
            pools[key] = nil
            poolCount.store(pools.count, ordering: .relaxed)
            return entry.pool
        }
        await retired?.retire()
    }

    /// The warm processes kept for `activity` now (for tests and the bench).
    public func warmProcessCount(for activity: ActivityConfiguration) -> Int {
        pools.withLock { $0[activity.arn.description] }?.pool.slotCount ?? 0
    }

    private func pool(
        for activity: ActivityConfiguration, size: Int? = nil, minimumSize: Int = 0, user: DrainSignal? = nil
    ) -> WarmProcessPool {
        let spec = WarmSpec(activity: activity, workerName: workerName, daemonEnvironment: daemonEnvironment)
        let pool = pools.withLock { pools in
            let key = activity.arn.description
            var entry = pools[key] ?? {
                var logger = self.logger
                logger[metadataKey: "STEPWORKER_ACTIVITY"] = "\(activity.name)"
                return (WarmProcessPool(spec: spec, runner: stdio, logger: logger), [])
            }()
            if let user, !entry.users.contains(where: { $0 === user }) { entry.users.append(user) }
            pools[key] = entry
            poolCount.store(pools.count, ordering: .relaxed)
            return entry.pool
        }
        pool.configure(spec, size: size ?? max(minimumSize, pool.slotCount))
        return pool
    }
}
