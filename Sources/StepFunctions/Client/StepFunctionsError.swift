import FoundationEssentials
import POSIXSupport

/// An error from the Step Functions API or the way to it, classified once so that callers decide
/// with a `switch` on `kind`.
public struct StepFunctionsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Rate limited: back off and retry.
        case throttled
        /// 5xx, connection refused/reset/dropped, timeouts: retry.
        case transient
        /// The task token is no longer valid: timed out, stopped, or unknown. Stop working on it.
        case taskGone
        /// Too many open polls on the activity (`ActivityWorkerLimitExceeded`): back off.
        case workerLimit
        /// The request itself is wrong, or the caller is not authorised: retrying will not help.
        case invalidRequest
    }

    public var kind: Kind
    /// The service's error name (`TaskTimedOut`, `ThrottlingException`, …), or for errors on the
    /// way to it a name of ours (`ConnectionFailed`, `Timeout`, `HTTP503`).
    public var code: String
    /// The service's message, kept as it was sent.
    public var message: String
    /// The HTTP status, when there was a response.
    public var statusCode: Int?
    /// The operation that failed (`GetActivityTask`, …).
    public var operation: String
    /// An earlier attempt of the same call failed in a way that may have reached the service
    /// (a 5xx, a dropped connection, a timeout): a `taskGone` answer to a result may then mean
    /// that attempt was taken and only its answer was lost.
    public var afterAmbiguousAttempt = false

    public init(kind: Kind, code: String, message: String, statusCode: Int? = nil, operation: String) {
        self.kind = kind
        self.code = code
        self.message = message
        self.statusCode = statusCode
        self.operation = operation
    }

    public var isRetryable: Bool { kind == .throttled || kind == .transient }

    public var description: String {
        let status = statusCode.map { " (HTTP \($0))" } ?? ""
        return "\(operation): \(code)\(status)\(message.isEmpty ? "" : ": \(message)")"
    }

    static let throttlingCodes: Set<String> = [
        "ThrottlingException", "Throttling", "ThrottledException", "KmsThrottlingException",
        "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
        "ProvisionedThroughputExceededException", "SlowDown", "PriorRequestNotComplete", "BandwidthLimitExceeded",
    ]
    static let transientCodes: Set<String> = [
        "InternalFailure", "InternalError", "InternalServerError", "InternalServerException",
        "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
    ]
    static let taskGoneCodes: Set<String> = ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]
    static let transientStatuses: Set<Int> = [500, 502, 503, 504, 509]

    /// The class of an error answer, from its error name and HTTP status.
    public static func classify(code: String, statusCode: Int?) -> Kind {
        if taskGoneCodes.contains(code) { return .taskGone }
        if code == "ActivityWorkerLimitExceeded" { return .workerLimit }
        if throttlingCodes.contains(code) || statusCode == 429 { return .throttled }
        if transientCodes.contains(code) { return .transient }
        if let statusCode, transientStatuses.contains(statusCode) || statusCode >= 500 { return .transient }
        return .invalidRequest
    }

    /// The error name of an AWS JSON error answer: `__type` (or `code`) of the body, else the
    /// `X-Amzn-ErrorType` header, without a namespace (`com.amazonaws.sfn#`) or `:…` suffix.
    public static func errorName(type: String?, header: String?) -> String? {
        for candidate in [type, header] {
            guard var name = candidate.map({ String($0.trimmingWhitespace()) }), !name.isEmpty else { continue }
            if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
            if let hash = name.lastIndex(of: "#") { name = String(name[name.index(after: hash)...]) }
            if !name.isEmpty { return name }
        }
        return nil
    }
}
