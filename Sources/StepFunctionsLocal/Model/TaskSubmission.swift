/// What the admin API submits: a task for an activity.
public struct TaskSubmission: Sendable, Equatable, Decodable {
    public var activityArn: String
    /// JSON text; `{}` when absent.
    public var input: String?
    public var heartbeatSeconds: Double?
    public var timeoutSeconds: Double?

    public init(activityArn: String, input: String? = nil, heartbeatSeconds: Double? = nil, timeoutSeconds: Double? = nil) {
        self.activityArn = activityArn
        self.input = input
        self.heartbeatSeconds = heartbeatSeconds
        self.timeoutSeconds = timeoutSeconds
    }
}
