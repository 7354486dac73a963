public import Foundation

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

/// What `DescribeActivity` and `ListActivities` say of an activity.
public struct ActivityDescription: Sendable, Equatable {
    public var arn: String
    public var name: String
    public var creationDate: Date?

    public init(arn: String, name: String, creationDate: Date? = nil) {
        self.arn = arn
        self.name = name
        self.creationDate = creationDate
    }
}
