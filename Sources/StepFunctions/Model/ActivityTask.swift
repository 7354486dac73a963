/// A task handed to this worker by `GetActivityTask`.
public struct ActivityTask: Sendable, Equatable {
    public var token: TaskToken
    /// The task's input, JSON text as the service sent it.
    public var input: String
    /// When the poll's answer arrived: from then until the ledger has journaled the task, a
    /// crash loses it until its heartbeat timeout (docs/daemon.md, "What a crash can cost").
    public var receivedAt: ContinuousClock.Instant

    public init(token: TaskToken, input: String, receivedAt: ContinuousClock.Instant = .now) {
        self.token = token
        self.input = input
        self.receivedAt = receivedAt
    }

    /// The same task: token and input (when it arrived is a measurement, not part of it).
    public static func == (lhs: ActivityTask, rhs: ActivityTask) -> Bool {
        lhs.token == rhs.token && lhs.input == rhs.input
    }
}
