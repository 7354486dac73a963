/// Which call goes first when an API's budget is short: results (they finish work and free a
/// slot), then heartbeats, the one nearest its deadline first, then polls (a poll only brings
/// more work). Calls of the same priority go in the order they came.
public enum CallPriority: Sendable, Comparable {
    case result
    /// `deadline`: on the limiter's clock, as an offset from its start.
    case heartbeat(deadline: Duration)
    case poll

    public static func < (lhs: CallPriority, rhs: CallPriority) -> Bool {
        switch (lhs, rhs) {
        case (.heartbeat(let left), .heartbeat(let right)): left < right
        default: lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .result: 0
        case .heartbeat: 1
        case .poll: 2
        }
    }
}
