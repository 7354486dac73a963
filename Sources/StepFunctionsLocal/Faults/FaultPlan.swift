/// One injected fault, as `POST /_local/faults` takes it:
/// `{"fault": "throttle", "count": 2, "operation": "SendTaskHeartbeat"}`.
///
/// - `fault`: `throttle` (400 `ThrottlingException`), `serverError` (`status` 500
///   `InternalFailure`, the default, or 503 `ServiceUnavailable`), `dropConnection` (the connection
///   closes without an answer) or `latency` (`latencyMs` added before the request is handled).
/// - `count`: how many requests it hits; default 1, but unlimited for `latency`.
/// - `operation`: only requests of this operation (`GetActivityTask`, …); default every operation.
/// - `afterOperation`: for `serverError` and `dropConnection`, carry the operation out first and
///   lose its answer (as when a response is lost on the way back); default false: the request is
///   refused before it has any effect.
public struct FaultRule: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case throttle, serverError, dropConnection, latency
    }

    public var fault: Kind
    public var count: Int?
    public var operation: String?
    public var status: Int?
    public var latencyMs: Int?
    public var afterOperation: Bool?

    public init(
        fault: Kind, count: Int? = nil, operation: String? = nil, status: Int? = nil, latencyMs: Int? = nil,
        afterOperation: Bool? = nil
    ) {
        self.fault = fault
        self.count = count
        self.operation = operation
        self.status = status
        self.latencyMs = latencyMs
        self.afterOperation = afterOperation
    }

    /// Problems with the rule, empty when it is fine.
    public var problems: [String] {
        var problems: [String] = []
        if let count, count < 1 { problems.append("count must be at least 1") }
        if fault == .latency && !(0...600_000).contains(latencyMs ?? -1) { problems.append("latency needs latencyMs from 0 to 600000") }
        if fault == .serverError, let status, !(500...599).contains(status) { problems.append("status must be 5xx") }
        return problems
    }
}

/// What happens to one request.
public struct FaultDecision: Sendable, Equatable {
    public enum Failure: Sendable, Equatable {
        case throttle
        case serverError(status: Int, afterOperation: Bool)
        case dropConnection(afterOperation: Bool)
    }

    /// Added before the request is handled.
    public var latencyMilliseconds = 0
    public var failure: Failure?
    /// The kinds applied, for statistics.
    public var kinds: [FaultRule.Kind] = []

    public static let none = FaultDecision()
}

/// The faults still to inject, in the order they were added. Pure: the endpoint asks it what to
/// do with each request.
public struct FaultPlan: Sendable {
    public struct Entry: Sendable, Equatable, Codable {
        public var id: Int
        public var rule: FaultRule
        /// Requests it will still hit; nil for unlimited.
        public var remaining: Int?
    }

    public private(set) var entries: [Entry] = []
    private var nextID = 1

    public init() {}

    public mutating func add(_ rule: FaultRule) -> Int {
        let id = nextID
        nextID += 1
        let remaining = rule.count ?? (rule.fault == .latency ? nil : 1)
        entries.append(Entry(id: id, rule: rule, remaining: remaining))
        return id
    }

    public mutating func clear() {
        entries.removeAll()
    }

    /// The faults for one request of `operation`: every matching latency rule adds its delay, and
    /// the first matching failure rule applies. Each rule applied uses up one of its count.
    public mutating func decide(for operation: String) -> FaultDecision {
        var decision = FaultDecision()
        for index in entries.indices where entries[index].rule.operation.map({ $0 == operation }) ?? true {
            let rule = entries[index].rule
            switch rule.fault {
            case .latency:
                decision.latencyMilliseconds = min(decision.latencyMilliseconds + (rule.latencyMs ?? 0), 600_000)
            case .throttle, .serverError, .dropConnection:
                guard decision.failure == nil else { continue }
                decision.failure = Self.failure(of: rule)
            }
            decision.kinds.append(rule.fault)
            entries[index].remaining = entries[index].remaining.map { $0 - 1 }
        }
        entries.removeAll { $0.remaining == 0 }
        return decision
    }

    private static func failure(of rule: FaultRule) -> FaultDecision.Failure {
        switch rule.fault {
        case .throttle, .latency: .throttle
        case .serverError: .serverError(status: rule.status ?? 500, afterOperation: rule.afterOperation ?? false)
        case .dropConnection: .dropConnection(afterOperation: rule.afterOperation ?? false)
        }
    }
}
