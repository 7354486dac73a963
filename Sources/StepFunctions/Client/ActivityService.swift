/// The operations a worker needs from Step Functions, as a protocol so the supervisor can be
/// driven by the real client against a local endpoint, or by anything else that speaks them.
public protocol ActivityService: Sendable {
    /// Long-polls for a task; nil when the poll ended without one.
    func getActivityTask(activityArn: String, workerName: String?) async throws -> ActivityTask?
    func sendTaskSuccess(token: TaskToken, output: String) async throws
    func sendTaskFailure(token: TaskToken, error: String?, cause: String?) async throws
    func sendTaskHeartbeat(token: TaskToken) async throws
    /// A heartbeat that should reach the service within `timeLeft` (nil: no deadline known). A
    /// service that paces its calls sends it ahead of heartbeats with later deadlines.
    func sendTaskHeartbeat(token: TaskToken, within timeLeft: Duration?) async throws
}

extension ActivityService {
    public func sendTaskHeartbeat(token: TaskToken, within timeLeft: Duration?) async throws {
        try await sendTaskHeartbeat(token: token)
    }
}
