import FoundationEssentials
import NIOCore
public import NIOHTTP1
import StepFunctions

/// An error answer of the local endpoint, shaped as the service shapes it: HTTP status,
/// `X-Amzn-ErrorType` header and `{"__type": "namespace#Code", "message": "…"}` body.
public struct LocalServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error name clients match on (`TaskTimedOut`, `ThrottlingException`, …).
    public var code: String
    public var message: String
    public var status: HTTPResponseStatus
    /// `com.amazonaws.sfn` for the service's own errors, `com.amazon.coral.service` for the
    /// front end's (authentication, serialization, throttling, internal failures).
    public var namespace: String

    public init(code: String, message: String, status: HTTPResponseStatus = .badRequest, namespace: String = Self.service) {
        self.code = code
        self.message = message
        self.status = status
        self.namespace = namespace
    }

    public static let service = "com.amazonaws.sfn"
    public static let frontEnd = "com.amazon.coral.service"

    public var description: String { "\(code): \(message)" }

    /// The HTTP answer.
    public var response: HTTPServerResponse {
        var response = HTTPServerResponse.json(
            Wire.ErrorBody(type: "\(namespace)#\(code)", message: message), status: status, contentType: Wire.contentType)
        response.headers.add(name: "X-Amzn-ErrorType", value: "\(code):http://internal.amazon.com/coral/\(namespace)/")
        return response
    }

    // MARK: The service's errors

    public static func validation(_ message: String) -> Self {
        Self(code: "ValidationException", message: message)
    }

    /// The service's wording for one violated constraint.
    public static func constraint(_ field: String, _ rule: String, value: String? = nil) -> Self {
        let shown = value.map { "'\($0)'" } ?? "null"
        return validation("1 validation error detected: Value \(shown) at '\(field)' failed to satisfy constraint: \(rule)")
    }

    public static func missing(_ field: String) -> Self {
        constraint(field, "Member must not be null")
    }

    public static func invalidArn(_ arn: String) -> Self {
        Self(code: "InvalidArn", message: "Invalid Arn: 'Resource type not valid in this context: \(arn)'")
    }

    public static func activityDoesNotExist(_ arn: String) -> Self {
        Self(code: "ActivityDoesNotExist", message: "Activity Does Not Exist: '\(arn)'")
    }

    public static func invalidName(_ name: String) -> Self {
        Self(code: "InvalidName", message: "Invalid Name: '\(name)'")
    }

    public static let invalidToken = Self(code: "InvalidToken", message: "Invalid Token: 'Invalid token'")
    public static let invalidNextToken = Self(code: "InvalidToken", message: "Invalid Token: 'Invalid nextToken'")
    public static let taskTimedOut = Self(code: "TaskTimedOut", message: "Task Timed Out: 'Provided task does not exist anymore'")
    public static let invalidOutput = Self(code: "InvalidOutput", message: "Invalid Output: 'Output is not valid JSON'")

    public static func workerLimit(_ arn: String, limit: Int) -> Self {
        Self(code: "ActivityWorkerLimitExceeded", message: "Too many open polls (\(limit)) on activity '\(arn)'")
    }

    // MARK: The front end's errors

    public static func unknownOperation(_ target: String?) -> Self {
        Self(code: "UnknownOperationException", message: "Unknown operation: '\(target ?? "")'", namespace: frontEnd)
    }

    public static func serialization(_ message: String) -> Self {
        Self(code: "SerializationException", message: message, namespace: frontEnd)
    }

    public static let throttling = Self(code: "ThrottlingException", message: "Rate exceeded", namespace: frontEnd)

    public static func serverError(status: HTTPResponseStatus) -> Self {
        status == .serviceUnavailable
            ? Self(code: "ServiceUnavailable", message: "Service Unavailable", status: status, namespace: frontEnd)
            : Self(code: "InternalFailure", message: "Internal Failure", status: status, namespace: frontEnd)
    }

    public static let unrecognizedClient = Self(
        code: "UnrecognizedClientException", message: "The security token included in the request is invalid.",
        status: .forbidden, namespace: frontEnd)

    public static let signatureMismatch = Self(
        code: "InvalidSignatureException",
        message: "The request signature we calculated does not match the signature you provided. "
            + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        status: .forbidden, namespace: frontEnd)

    public static func invalidSignature(_ message: String) -> Self {
        Self(code: "InvalidSignatureException", message: message, status: .forbidden, namespace: frontEnd)
    }

    public static let missingAuthentication = Self(
        code: "MissingAuthenticationTokenException", message: "Missing Authentication Token", status: .forbidden,
        namespace: frontEnd)

    public static func incompleteSignature(_ message: String) -> Self {
        Self(code: "IncompleteSignatureException", message: message, status: .forbidden, namespace: frontEnd)
    }
}
