import FoundationEssentials
import NIOCore

/// The state of a local Step Functions activity endpoint: activities, tasks, waiting polls,
/// faults and statistics. The HTTP side (`LocalEndpointServer`) only decodes, encodes and calls
/// in here; tests can drive it in-process too.
///
/// Task tokens are 704 characters of base64url over random bytes, like real ones in size and
/// just as unguessable. A token this endpoint never issued answers `InvalidToken`; the token of a
/// task that has finished (succeeded, failed or timed out) answers `TaskTimedOut`, as the service
/// does ("Provided task does not exist anymore").
public actor LocalEndpoint {
    public let configuration: LocalEndpointConfiguration

    var activities: [String: LocalActivity] = [:]
    var tasks: [String: LocalTask] = [:]
    /// Task ids in the order they were submitted.
    var taskOrder: [String] = []
    var taskIDsByToken: [String: String] = [:]
    /// Task ids waiting for a poll, by activity ARN, oldest first.
    var scheduled: [String: CircularBuffer<String>] = [:]
    /// Polls waiting for a task, by activity ARN, oldest first.
    var pollWaiters: [String: [PollWaiter]] = [:]
    /// Callers of `waitForTask` waiting for a change, by waiter id.
    var changeWaiters: [Int: ChangeWaiter] = [:]
    var faults = FaultPlan()
    var statistics = LocalEndpointStats()
    /// The quota's buckets by operation (`configuration.rateLimits`), on a monotonic clock.
    var buckets: [String: TokenBucket]
    let startedAt = ContinuousClock.now
    var nextID = 1

    struct PollWaiter {
        var id: Int
        var workerName: String?
        var continuation: CheckedContinuation<TaskHandout?, Never>
        var timer: Task<Void, Never>
    }

    struct ChangeWaiter {
        var taskID: String
        var continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>
    }

    /// An endpoint with no activities (`configuration.activities` is for `LocalEndpointServer`).
    public init(configuration: LocalEndpointConfiguration = LocalEndpointConfiguration()) {
        self.configuration = configuration
        self.buckets = configuration.rateLimits.mapValues { TokenBucket($0) }
    }

    var now: Date { configuration.now() }

    func makeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    // MARK: Faults and statistics

    /// Whether the quota lets a call of `operation` through now; a call it throttles is counted
    /// (in `requests` and `throttled`) and must be answered `ThrottlingException`.
    public func admit(_ operation: String) -> Bool {
        guard var bucket = buckets[operation] else { return true }
        defer { buckets[operation] = bucket }
        if bucket.take(at: ContinuousClock.now - startedAt) { return true }
        statistics.requests[operation, default: 0] += 1
        statistics.throttled[operation, default: 0] += 1
        return false
    }

    /// What to do with the next request of `operation`; counts the request and the faults.
    public func decideFaults(for operation: String) -> FaultDecision {
        statistics.requests[operation, default: 0] += 1
        let decision = faults.decide(for: operation)
        for kind in decision.kinds { statistics.faults[kind.rawValue, default: 0] += 1 }
        return decision
    }

    public func addFault(_ rule: FaultRule) -> Int {
        faults.add(rule)
    }

    public func clearFaults() {
        faults.clear()
    }

    public func pendingFaults() -> [FaultPlan.Entry] {
        faults.entries
    }

    public func stats() -> LocalEndpointStats {
        expireAll()
        var stats = statistics
        for arn in stats.activities.keys { stats.activities[arn]?.tasks = [:] }
        for task in tasks.values {
            stats.activities[task.activityArn, default: .init()].tasks[task.status.rawValue, default: 0] += 1
        }
        return stats
    }

    func count(_ operation: String, activityArn: String) {
        statistics.activities[activityArn, default: .init()].operations[operation, default: 0] += 1
    }

    func pollOpened(_ arn: String) {
        var activity = statistics.activities[arn, default: .init()]
        activity.openPolls += 1
        activity.maxOpenPolls = max(activity.maxOpenPolls, activity.openPolls)
        activity.slotsInUse += 1
        activity.maxSlotsInUse = max(activity.maxSlotsInUse, activity.slotsInUse)
        statistics.activities[arn] = activity
    }

    /// A poll answered; one that was handed a task passed its slot on to the task.
    func pollClosed(_ arn: String, handedOutTask: Bool) {
        var activity = statistics.activities[arn, default: .init()]
        activity.openPolls -= 1
        if !handedOutTask { activity.slotsInUse -= 1 }
        statistics.activities[arn] = activity
    }

    /// A started task finished (its result was taken, or it timed out): its slot is free.
    func startedTaskFinished(_ arn: String) {
        statistics.activities[arn, default: .init()].slotsInUse -= 1
    }

    func openPolls(_ arn: String) -> Int {
        statistics.activities[arn]?.openPolls ?? 0
    }
}
