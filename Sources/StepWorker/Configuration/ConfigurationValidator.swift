import Logging
import POSIXSupport
import StepFunctions

/// Turns the raw mirror into the validated model: defaults, ranges, cross-checks, host checks.
/// Records every problem; returns a model only when there were none.
struct ConfigurationValidator {
    let file: String
    let host: any HostFacts
    var problems = ProblemList()

    init(file: String, host: any HostFacts) {
        self.file = file
        self.host = host
    }

    mutating func validate(_ raw: RawConfiguration) -> Configuration? {
        let aws = validateAWS(raw.aws)
        let worker = validateWorker(raw.worker)
        let metrics = raw.metrics.flatMap { validateMetrics($0) }
        if raw.activities.isEmpty, !raw.activitiesMalformed {
            problems.add(.root.appending("activity"), "at least one [[activity]] is required")
        }
        var activities: [ActivityConfiguration] = []
        var names: [String: ConfigKeyPath] = [:]
        var arns: [String: ConfigKeyPath] = [:]
        for rawActivity in raw.activities {
            guard let activity = validateActivity(rawActivity, stateDirectory: worker.stateDirectory) else { continue }
            if let first = names[activity.name] {
                problems.add(rawActivity.path.appending("name"), "duplicate name \"\(activity.name.boundedPrefix())\" (also \(first))")
            } else {
                names[activity.name] = rawActivity.path
            }
            if let first = arns[activity.arn.description] {
                problems.add(rawActivity.path.appending("arn"), "duplicate ARN (also \(first))")
            } else {
                arns[activity.arn.description] = rawActivity.path
            }
            activities.append(activity)
        }
        guard problems.isEmpty else { return nil }
        return Configuration(file: file, aws: aws, worker: worker, metrics: metrics, activities: activities)
    }

    private mutating func validateAWS(_ raw: RawConfiguration.AWS) -> AWSSettings {
        let path = ConfigKeyPath.root.appending("aws")
        if let region = raw.region, region.isEmpty || !region.unicodeScalars.allSatisfy(Self.isRegionScalar) {
            problems.add(path.appending("region"), "malformed region \"\(region.boundedPrefix())\" (expected e.g. \"eu-west-1\")")
        }
        if let profile = raw.profile, profile.isEmpty {
            problems.add(path.appending("profile"), "must not be empty")
        }
        if let endpoint = raw.endpoint,
            !(endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://")) || endpoint.count < 9
        {
            problems.add(path.appending("endpoint"), "expected an http:// or https:// URL, got \"\(endpoint.boundedPrefix())\"")
        }
        return AWSSettings(
            region: raw.region, profile: raw.profile, endpoint: raw.endpoint,
            useFIPS: raw.useFIPS ?? false, useDualStack: raw.useDualStack ?? false)
    }

    private static func isRegionScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
    }

    private mutating func validateWorker(_ raw: RawConfiguration.Worker) -> WorkerSettings {
        let path = ConfigKeyPath.root.appending("worker")
        var name = String(host.hostname.prefix(TaskLimits.maxWorkerNameCharacters))
        if let given = raw.name {
            if given.isEmpty || given.count > TaskLimits.maxWorkerNameCharacters {
                problems.add(path.appending("name"), "must be 1 to 80 characters long, got \(given.count)")
            }
            name = given
        }
        let stateDirectory = raw.stateDirectory ?? Self.defaultStateDirectory(host.environment)
        if !stateDirectory.hasPrefix("/") {
            problems.add(path.appending("state_directory"), "must be an absolute path, got \"\(stateDirectory.boundedPrefix())\"")
        }
        let shutdownGrace = raw.shutdownGrace ?? ConfigurationDefaults.shutdownGrace
        let levelName = raw.logLevel ?? ConfigurationDefaults.logLevel.rawValue
        let level = Logger.Level(rawValue: levelName)
        if level == nil {
            problems.add(
                path.appending("log_level"),
                "must be one of \(ConfigurationDefaults.logLevels.joined(separator: ", ")), got \"\(levelName.boundedPrefix())\"")
        }
        return WorkerSettings(
            name: name, stateDirectory: stateDirectory, shutdownGrace: shutdownGrace,
            logLevel: level ?? ConfigurationDefaults.logLevel)
    }

    /// systemd's `$STATE_DIRECTORY` (colon-separated, first entry), else /var/lib/stepworker.
    static func defaultStateDirectory(_ environment: [String: String]) -> String {
        if let variable = environment["STATE_DIRECTORY"],
            let first = variable.split(separator: ":").first, !first.isEmpty
        {
            return String(first)
        }
        return ConfigurationDefaults.stateDirectory
    }

    private mutating func validateMetrics(_ raw: RawConfiguration.Metrics) -> MetricsSettings? {
        guard let listen = raw.listen else { return nil }
        guard let address = Self.hostAndPort(listen) else {
            problems.add(
                .root.appending("metrics").appending("listen"),
                "expected host:port with a port from 1 to 65535 (e.g. \"127.0.0.1:9464\"), got \"\(listen.boundedPrefix())\"")
            return nil
        }
        return address
    }

    /// `host:port` or `[v6 address]:port`.
    static func hostAndPort(_ text: String) -> MetricsSettings? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
            let port = Int(portText), (1...65535).contains(port)
        else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else if host.isEmpty || host.contains(":") || host.contains(where: { $0 == " " || $0 == "/" }) {
            return nil
        }
        return MetricsSettings(host: host, port: port)
    }
}
