/// `[aws]`. Values left nil are resolved by the service client (environment, profile, IMDS).
public struct AWSSettings: Sendable, Equatable {
    public var region: String?
    public var profile: String?
    public var endpoint: String?
    public var useFIPS: Bool
    public var useDualStack: Bool

    public init(region: String?, profile: String?, endpoint: String?, useFIPS: Bool, useDualStack: Bool) {
        self.region = region
        self.profile = profile
        self.endpoint = endpoint
        self.useFIPS = useFIPS
        self.useDualStack = useDualStack
    }
}
