/// A task as a poll receives it.
public struct TaskHandout: Sendable, Equatable {
    public var taskID: String
    public var token: String
    public var input: String
}
