/// What a reload (SIGHUP) changes, worked out from the running and the newly read configuration;
/// pure, so every case is tested without processes or time.
///
/// Activities are matched by ARN: a new ARN is added (a new pool), a missing one is removed (its
/// pool drains: no new polls, running handlers finish), and one whose settings differ is updated
/// in place (capacity, pollers, and how tasks received from then on run).
///
/// Settings the running daemon cannot take over live (the service client, the outbox) make the
/// whole reload refused, so the daemon never runs half of a configuration: `[aws]`,
/// `worker.name`, `worker.state_directory` and `[metrics]` need a restart.
public struct ReloadPlan: Sendable, Equatable {
    public struct Update: Sendable, Equatable {
        public var old: ActivityConfiguration
        public var new: ActivityConfiguration
    }

    public var added: [ActivityConfiguration] = []
    public var removed: [ActivityConfiguration] = []
    public var updated: [Update] = []
    /// Keys whose change needs a restart, e.g. `aws.region`; non-empty = the reload is refused.
    public var needsRestart: [String] = []

    public init(from old: Configuration, to new: Configuration) {
        let oldByARN = Dictionary(old.activities.map { ($0.arn, $0) }, uniquingKeysWith: { first, _ in first })
        let newARNs = Set(new.activities.map(\.arn))
        for activity in new.activities {
            if let previous = oldByARN[activity.arn] {
                if previous != activity { updated.append(Update(old: previous, new: activity)) }
            } else {
                added.append(activity)
            }
        }
        removed = old.activities.filter { !newARNs.contains($0.arn) }

        func compare<Value: Equatable>(_ key: String, _ value: (Configuration) -> Value) {
            if value(old) != value(new) { needsRestart.append(key) }
        }
        compare("aws.region") { $0.aws.region }
        compare("aws.profile") { $0.aws.profile }
        compare("aws.endpoint") { $0.aws.endpoint }
        compare("aws.use_fips") { $0.aws.useFIPS }
        compare("aws.use_dualstack") { $0.aws.useDualStack }
        compare("worker.name") { $0.worker.name }
        compare("worker.state_directory") { $0.worker.stateDirectory }
        compare("metrics") { $0.metrics }
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && updated.isEmpty }
}

extension ActivityConfiguration {
    /// The keys of `[[activity]]` whose value differs in `other`, for the reload log.
    public func changedKeys(in other: ActivityConfiguration) -> [String] {
        var keys: [String] = []
        func compare<Value: Equatable>(_ key: String, _ value: (ActivityConfiguration) -> Value) {
            if value(self) != value(other) { keys.append(key) }
        }
        compare("name") { $0.name }
        compare("command") { $0.command }
        compare("executable") { $0.executablePath }
        compare("concurrency") { $0.concurrency }
        compare("pollers") { $0.pollers }
        compare("timeout") { $0.timeout }
        compare("kill_grace") { $0.killGrace }
        compare("heartbeat") { $0.heartbeat }
        compare("working_directory") { $0.workingDirectory }
        compare("user/group") { $0.identity }
        compare("environment") { $0.environment }
        compare("output") { $0.output }
        compare("max_output") { $0.maxOutput }
        compare("exit_codes") { $0.exitCodes }
        compare("protocol") { $0.handlerProtocol }
        compare("max_tasks_per_process") { $0.maxTasksPerProcess }
        return keys
    }
}
