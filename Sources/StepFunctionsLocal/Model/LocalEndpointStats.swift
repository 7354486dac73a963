/// What the endpoint has served, for tests that assert on the daemon's behaviour.
public struct LocalEndpointStats: Sendable, Equatable, Codable {
    public struct Activity: Sendable, Equatable, Codable {
        /// `GetActivityTask` requests being answered right now.
        public var openPolls = 0
        /// The most open polls seen at once.
        public var maxOpenPolls = 0
        /// Open polls that have not been handed a task, plus started tasks that have not finished:
        /// the slots a worker that takes a slot before it polls and keeps it until the task's
        /// result is taken holds (at least) right now. A poll that is handed a task passes its
        /// slot to the task, so a task is never counted twice.
        public var slotsInUse = 0
        /// The most slots in use seen at once: a worker whose open polls plus unfinished tasks
        /// ever exceeded its capacity shows here, even for a moment.
        public var maxSlotsInUse = 0
        /// Operations carried out on this activity (faulted requests excluded), by name.
        public var operations: [String: Int] = [:]
        /// Tasks by status.
        public var tasks: [String: Int] = [:]

        public init() {}
    }

    /// By activity ARN.
    public var activities: [String: Activity] = [:]
    /// Every service request by operation name, faulted ones included.
    public var requests: [String: Int] = [:]
    /// Faults injected, by kind (`throttle`, `serverError`, `dropConnection`, `latency`).
    public var faults: [String: Int] = [:]
    /// Requests the quota (`rateLimits`) throttled, by operation name.
    public var throttled: [String: Int] = [:]

    public init() {}
}
