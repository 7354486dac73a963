public import Logging

/// The validated configuration: every default filled in, every value in range. Built only by
/// `ConfigurationLoader`; see docs/configuration.md for each key.
public struct Configuration: Sendable, Equatable {
    /// The file it was read from.
    public var file: String
    public var aws: AWSSettings
    public var worker: WorkerSettings
    public var metrics: MetricsSettings?
    public var activities: [ActivityConfiguration]

    public func activity(named name: String) -> ActivityConfiguration? {
        activities.first { $0.name == name }
    }
}

/// `[aws]`. Values left nil are resolved by the service client (environment, profile, IMDS).
public struct AWSSettings: Sendable, Equatable {
    public var region: String?
    public var profile: String?
    public var endpoint: String?
    public var useFIPS: Bool
    public var useDualStack: Bool

    public init(region: String?, profile: String?, endpoint: String?, useFIPS: Bool, useDualStack: Bool) {
        self.region = region
        self.profile = profile
        self.endpoint = endpoint
        self.useFIPS = useFIPS
        self.useDualStack = useDualStack
    }
}

/// `[worker]`.
public struct WorkerSettings: Sendable, Equatable {
    /// Sent as `workerName` (at most 80 characters).
    public var name: String
    public var stateDirectory: String
    public var shutdownGrace: Duration
    public var logLevel: Logger.Level

    public init(name: String, stateDirectory: String, shutdownGrace: Duration, logLevel: Logger.Level) {
        self.name = name
        self.stateDirectory = stateDirectory
        self.shutdownGrace = shutdownGrace
        self.logLevel = logLevel
    }
}

/// `[metrics]`.
public struct MetricsSettings: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// What stdout of a successful handler is.
public enum OutputMode: String, Sendable, Equatable, CaseIterable {
    /// stdout must be JSON text, sent as is.
    case json
    /// stdout is text, sent as a JSON string.
    case text
}

/// The user and group a handler runs as (only when the daemon is root).
public struct HandlerIdentity: Sendable, Equatable {
    public var user: String?
    public var group: String?
    public var userID: UInt32?
    public var groupID: UInt32
    public var supplementaryGroups: [UInt32]

    public init(user: String?, group: String?, userID: UInt32?, groupID: UInt32, supplementaryGroups: [UInt32]) {
        self.user = user
        self.group = group
        self.userID = userID
        self.groupID = groupID
        self.supplementaryGroups = supplementaryGroups
    }
}

/// One `[[activity]]`.
public struct ActivityConfiguration: Sendable, Equatable {
    public var arn: ActivityARN
    /// Unique; defaults to the ARN's last component.
    public var name: String
    /// argv, as written; `command[0]` may be a bare name, found on the handler's PATH.
    public var command: [String]
    /// `command[0]` resolved to the file that will run.
    public var executablePath: String
    public var concurrency: Int
    public var pollers: Int
    /// nil: no limit.
    public var timeout: Duration?
    public var killGrace: Duration
    /// nil: no heartbeats (`heartbeat = "0s"`).
    public var heartbeat: Duration?
    public var workingDirectory: String
    /// nil: run as the daemon's own user.
    public var identity: HandlerIdentity?
    /// Added to the handler's clean environment.
    public var environment: [String: String]
    public var output: OutputMode
    public var maxOutput: Int
    /// Exit status -> error name.
    public var exitCodes: [Int32: String]
}

/// The defaults, in one place.
public enum ConfigurationDefaults {
    public static let configurationFile = "/etc/stepworker/stepworker.toml"
    public static let configurationFileVariable = "STEPWORKER_CONFIG"
    public static let stateDirectory = "/var/lib/stepworker"
    public static let shutdownGrace = Duration.seconds(120)
    public static let logLevel = Logger.Level.info
    public static let concurrency = 1
    public static let killGrace = Duration.seconds(10)
    public static let heartbeat = Duration.seconds(60)
    public static let output = OutputMode.json
    public static let maxOutput = 262_144
    public static let concurrencyRange = 1...1000
    public static let exitCodeRange = 1...255
    public static let maxErrorNameLength = 256
    /// The PATH handlers get, and the one a bare `command[0]` is looked up in.
    public static let handlerPath = "/usr/local/bin:/usr/bin:/bin"
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The file to read: `--config`, else `$STEPWORKER_CONFIG`, else the default path.
    public static func configurationPath(option: String?, environment: [String: String]) -> String {
        if let option, !option.isEmpty { return option }
        if let variable = environment[configurationFileVariable], !variable.isEmpty { return variable }
        return configurationFile
    }
}
