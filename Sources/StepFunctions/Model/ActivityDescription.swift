public import FoundationEssentials

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
