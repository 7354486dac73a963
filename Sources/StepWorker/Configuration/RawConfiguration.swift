/// The configuration file as written: every key optional, types checked, nothing defaulted or
/// range-checked yet (that is `ConfigurationValidator`'s job).
struct RawConfiguration: Sendable {
    struct AWS: Sendable {
        var region: String?
        var profile: String?
        var endpoint: String?
        var useFIPS: Bool?
        var useDualStack: Bool?
    }

    struct Worker: Sendable {
        var name: String?
        var stateDirectory: String?
        var shutdownGrace: Duration?
        var logLevel: String?
    }

    struct Metrics: Sendable {
        var listen: String?
    }

    struct Activity: Sendable {
        var path: ConfigKeyPath
        /// The keys written, whatever their values.
        var presentKeys: Set<String>
        var arn: String?
        var name: String?
        var command: [String]?
        var concurrency: Int?
        var pollers: Int?
        var timeout: Duration?
        var killGrace: Duration?
        var heartbeat: Duration?
        var workingDirectory: String?
        var user: String?
        var group: String?
        var environment: [(key: String, value: String)]?
        var output: String?
        var maxOutput: Int?
        var exitCodes: [(key: String, value: String)]?
        var handlerProtocol: String?
        var maxTasksPerProcess: Int?
    }

    var aws = AWS()
    var worker = Worker()
    var metrics: Metrics?
    var activities: [Activity] = []
    /// `activity` was there but not an array of tables (already reported).
    var activitiesMalformed = false

    static let topLevelKeys = ["activity", "aws", "metrics", "worker"]
    static let awsKeys = ["endpoint", "profile", "region", "use_dualstack", "use_fips"]
    static let workerKeys = ["log_level", "name", "shutdown_grace", "state_directory"]
    static let metricsKeys = ["listen"]
    static let activityKeys = [
        "arn", "command", "concurrency", "environment", "exit_codes", "group", "heartbeat", "kill_grace",
        "max_output", "max_tasks_per_process", "name", "output", "pollers", "protocol", "timeout", "user",
        "working_directory",
    ]

    /// Reads a parsed document; type problems and unknown keys go to `problems`.
    static func read(_ document: TOMLNode, problems: inout ProblemList) -> RawConfiguration {
        var raw = RawConfiguration()
        let top = TableReader(document, at: .root, knownKeys: topLevelKeys, problems: &problems)

        let aws = TableReader(top.node("aws"), at: .root.appending("aws"), knownKeys: awsKeys, problems: &problems)
        raw.aws = AWS(
            region: aws.string("region", &problems),
            profile: aws.string("profile", &problems),
            endpoint: aws.string("endpoint", &problems),
            useFIPS: aws.boolean("use_fips", &problems),
            useDualStack: aws.boolean("use_dualstack", &problems))
        aws.finish(&problems)

        let worker = TableReader(
            top.node("worker"), at: .root.appending("worker"), knownKeys: workerKeys, problems: &problems)
        raw.worker = Worker(
            name: worker.string("name", &problems),
            stateDirectory: worker.string("state_directory", &problems),
            shutdownGrace: worker.duration("shutdown_grace", &problems),
            logLevel: worker.string("log_level", &problems))
        worker.finish(&problems)

        if let metricsNode = top.node("metrics") {
            let metrics = TableReader(
                metricsNode, at: .root.appending("metrics"), knownKeys: metricsKeys, problems: &problems)
            raw.metrics = Metrics(listen: metrics.string("listen", &problems))
            metrics.finish(&problems)
        }

        let activityNode = top.node("activity")
        raw.activities = readActivities(activityNode, problems: &problems)
        raw.activitiesMalformed = activityNode.map { node in
            if case .array = node { false } else { true }
        } ?? false
        top.finish(&problems)
        return raw
    }

    private static func readActivities(_ node: TOMLNode?, problems: inout ProblemList) -> [Activity] {
        let path = ConfigKeyPath.root.appending("activity")
        guard let node else { return [] }
        guard case .array(let elements) = node else {
            problems.add(path, "expected an array of tables ([[activity]]), got \(node.typeName)")
            return []
        }
        return elements.enumerated().map { index, element in
            let reader = TableReader(
                element, at: path.appending(index: index), knownKeys: activityKeys, problems: &problems)
            let activity = Activity(
                path: reader.path,
                presentKeys: reader.keys,
                arn: reader.string("arn", &problems),
                name: reader.string("name", &problems),
                command: reader.stringArray("command", &problems),
                concurrency: reader.integer("concurrency", &problems),
                pollers: reader.integer("pollers", &problems),
                timeout: reader.duration("timeout", &problems),
                killGrace: reader.duration("kill_grace", &problems),
                heartbeat: reader.duration("heartbeat", &problems),
                workingDirectory: reader.string("working_directory", &problems),
                user: reader.string("user", &problems),
                group: reader.string("group", &problems),
                environment: reader.stringTable("environment", &problems),
                output: reader.string("output", &problems),
                maxOutput: reader.byteSize("max_output", &problems),
                exitCodes: reader.stringTable("exit_codes", &problems),
                handlerProtocol: reader.string("protocol", &problems),
                maxTasksPerProcess: reader.integer("max_tasks_per_process", &problems))
            reader.finish(&problems)
            return activity
        }
    }
}
