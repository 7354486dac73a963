

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
