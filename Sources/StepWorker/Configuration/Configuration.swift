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
