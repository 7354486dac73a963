/// The user and group a handler runs as (only when the daemon is root).
public struct HandlerIdentity: Sendable, Equatable {
    public var user: String?
    public var group: String?
    public var userID: UInt32?
    public var groupID: UInt32
    public var supplementaryGroups: [UInt32]
    /// The user's home directory, looked up with the user (the handlers' `HOME`).
    public var home: String?

    public init(
        user: String?, group: String?, userID: UInt32?, groupID: UInt32, supplementaryGroups: [UInt32], home: String? = nil
    ) {
        self.user = user
        self.group = group
        self.userID = userID
        self.groupID = groupID
        self.supplementaryGroups = supplementaryGroups
        self.home = home
    }
}
