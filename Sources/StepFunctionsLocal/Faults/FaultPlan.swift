
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
