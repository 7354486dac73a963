/// A task handed to this worker by `GetActivityTask`.
public struct ActivityTask: Sendable, Equatable {
    public var token: TaskToken
    /// The task's input, JSON text as the service sent it.
    public var input: String

    public init(token: TaskToken, input: String) {
        self.token = token
        self.input = input
    }
}
