public import Logging

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
