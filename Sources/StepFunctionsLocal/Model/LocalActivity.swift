public import FoundationEssentials

/// An activity of the local endpoint.
public struct LocalActivity: Sendable, Equatable {
    public var name: String
    public var arn: String
    public var creationDate: Date

    public init(name: String, arn: String, creationDate: Date) {
        self.name = name
        self.arn = arn
        self.creationDate = creationDate
    }
}
