public import Logging

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
