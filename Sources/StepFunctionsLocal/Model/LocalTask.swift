public import FoundationEssentials

/// One task of the local endpoint and its life: SCHEDULED -> STARTED -> SUCCEEDED | FAILED |
/// TIMED_OUT. A pure state machine: every event takes the current time, and nothing here sleeps.
///
/// Timeouts follow the service: `timeoutSeconds` counts from scheduling (the activity state's
/// `TimeoutSeconds` runs from when the state is entered, waiting for a worker included), so a task
/// nobody picks up times out too; `heartbeatSeconds` counts from the start, then from the last
/// heartbeat. A deadline that has passed is applied before any event, so the state read at time
/// `now` is exact whether or not a timer fired.
public struct LocalTask: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case scheduled = "SCHEDULED"
        case started = "STARTED"
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"
        case timedOut = "TIMED_OUT"

        public var isFinished: Bool { self == .succeeded || self == .failed || self == .timedOut }
    }

    /// Why an event was refused.
    public enum Rejection: Error, Sendable, Equatable {
        /// The task has finished (timed out, succeeded or failed): the service answers `TaskTimedOut`.
        case finished
        /// The task has not been handed out yet; its token is not known to anyone.
        case notStarted
    }

    public let id: String
    public let activityArn: String
    public let input: String
    public let heartbeatSeconds: Double?
    public let timeoutSeconds: Double?
    public let scheduledAt: Date

    public private(set) var status: Status = .scheduled
    public private(set) var token: String?
    public private(set) var workerName: String?
    public private(set) var startedAt: Date?
    public private(set) var lastHeartbeatAt: Date?
    public private(set) var heartbeatCount = 0
    public private(set) var finishedAt: Date?
    public private(set) var output: String?
    public private(set) var error: String?
    public private(set) var cause: String?
    /// `SendTaskSuccess` and `SendTaskFailure` calls that reached this task, the accepted one
    /// included (requests a fault stopped before they were carried out are not counted).
    public private(set) var resultAttempts = 0
    /// Of those, the ones answered `TaskTimedOut` because the task had already finished: a worker
    /// retrying a result whose answer it never saw, or reporting one task twice.
    public private(set) var rejectedResults = 0
    /// Of the rejected ones, those that contradict the result the task was given (the other
    /// operation, another output, another error or cause): a worker that reported two different
    /// outcomes for one task. Late results of a timed-out task are not counted here.
    public private(set) var conflictingResults = 0

    public init(
        id: String, activityArn: String, input: String, heartbeatSeconds: Double?, timeoutSeconds: Double?, scheduledAt: Date
    ) {
        self.id = id
        self.activityArn = activityArn
        self.input = input
        self.heartbeatSeconds = heartbeatSeconds
        self.timeoutSeconds = timeoutSeconds
        self.scheduledAt = scheduledAt
    }

    /// When the task times out unless something happens first; nil when it cannot time out.
    public var deadline: Date? {
        let overall = timeoutSeconds.map { scheduledAt.addingTimeInterval($0) }
        switch status {
        case .scheduled:
            return overall
        case .started:
            let beat = heartbeatSeconds.flatMap { seconds in
                (lastHeartbeatAt ?? startedAt).map { $0.addingTimeInterval(seconds) }
            }
            return [overall, beat].compactMap { $0 }.min()
        case .succeeded, .failed, .timedOut:
            return nil
        }
    }

    /// Applies a deadline that has passed; true when the task timed out just now.
    @discardableResult
    public mutating func expire(at now: Date) -> Bool {
        guard let deadline, now >= deadline else { return false }
        let byHeartbeat = status == .started && timeoutSeconds.map { scheduledAt.addingTimeInterval($0) > deadline } ?? true
        status = .timedOut
        finishedAt = deadline
        if byHeartbeat {
            error = "States.HeartbeatTimeout"
            cause = "No heartbeat within \(Self.format(heartbeatSeconds ?? 0)) seconds."
        } else {
            error = "States.Timeout"
            cause = "The task did not finish within \(Self.format(timeoutSeconds ?? 0)) seconds of being scheduled."
        }
        return true
    }

    /// A poll takes the task: it gets its token and starts.
    public mutating func start(token: String, workerName: String?, at now: Date) throws(Rejection) {
        expire(at: now)
        guard status == .scheduled else { throw .finished }
        status = .started
        self.token = token
        self.workerName = workerName
        startedAt = now
    }

    public mutating func heartbeat(at now: Date) throws(Rejection) {
        try requireStarted(at: now)
        lastHeartbeatAt = now
        heartbeatCount += 1
    }

    public mutating func succeed(output: String, at now: Date) throws(Rejection) {
        try requireStartedForResult(at: now, conflicts: status != .succeeded || self.output != output)
        status = .succeeded
        self.output = output
        finishedAt = now
    }

    public mutating func fail(error: String?, cause: String?, at now: Date) throws(Rejection) {
        try requireStartedForResult(at: now, conflicts: status != .failed || self.error != error || self.cause != cause)
        status = .failed
        self.error = error
        self.cause = cause
        finishedAt = now
    }

    /// `requireStarted` for a result, counting it; `conflicts` says whether it contradicts the
    /// task's result should the task already have one.
    private mutating func requireStartedForResult(at now: Date, conflicts: Bool) throws(Rejection) {
        resultAttempts += 1
        do {
            try requireStarted(at: now)
        } catch {
            if error == .finished {
                rejectedResults += 1
                if status != .timedOut && conflicts { conflictingResults += 1 }
            }
            throw error
        }
    }

    private mutating func requireStarted(at now: Date) throws(Rejection) {
        expire(at: now)
        switch status {
        case .scheduled: throw .notStarted
        case .started: return
        case .succeeded, .failed, .timedOut: throw .finished
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
