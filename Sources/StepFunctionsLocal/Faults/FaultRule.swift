

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
