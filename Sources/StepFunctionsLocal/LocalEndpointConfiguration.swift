public import FoundationEssentials
public import StepFunctions

/// How a local endpoint behaves. Every key, with its default:
///
/// - `host` (`"127.0.0.1"`), `port` (`0`: the OS chooses; read the real one from the server).
/// - `region` (`"us-east-1"`), `accountID` (`"123456789012"`): what activity ARNs say,
///   `arn:aws:states:<region>:<account>:activity:<name>`, and the region requests must be signed for.
/// - `credentials` (nil): when set, every service request must carry a valid SigV4 signature made
///   with this key pair; a session token, when set here, must match `X-Amz-Security-Token`
///   (when nil here, any session token is accepted). Without credentials anything is accepted.
/// - `pollDuration` (60 s): how long `GetActivityTask` waits for a task before answering `{}`.
/// - `maxOpenPollsPerActivity` (1000): more open polls on one activity get `ActivityWorkerLimitExceeded`.
/// - `maxClockSkew` (15 min): a signed request whose `X-Amz-Date` is further off is refused.
/// - `activities` (`[]`): names of activities created at start.
/// - `now` (`Date.init`): the clock task deadlines and signatures are judged by.
public struct LocalEndpointConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var region: String
    public var accountID: String
    public var credentials: AWSCredentials?
    public var pollDuration: Duration
    public var maxOpenPollsPerActivity: Int
    public var maxClockSkew: Duration
    public var activities: [String]
    /// The account's quota, per operation name: a token bucket each, shared by every caller;
    /// a call that finds its bucket empty is answered `ThrottlingException`. None: no limit.
    public var rateLimits: [String: RateLimit]
    public var now: @Sendable () -> Date

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        region: String = "us-east-1",
        accountID: String = "123456789012",
        credentials: AWSCredentials? = nil,
        pollDuration: Duration = .seconds(60),
        maxOpenPollsPerActivity: Int = 1000,
        maxClockSkew: Duration = .seconds(15 * 60),
        activities: [String] = [],
        rateLimits: [String: RateLimit] = [:],
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.host = host
        self.port = port
        self.region = region
        self.accountID = accountID
        self.credentials = credentials
        self.pollDuration = pollDuration
        self.maxOpenPollsPerActivity = maxOpenPollsPerActivity
        self.maxClockSkew = maxClockSkew
        self.activities = activities
        self.rateLimits = rateLimits
        self.now = now
    }

    /// The ARN of the activity called `name` here.
    public func activityArn(name: String) -> String {
        "arn:aws:states:\(region):\(accountID):activity:\(name)"
    }
}
