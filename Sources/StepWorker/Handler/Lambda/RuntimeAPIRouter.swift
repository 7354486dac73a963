/// The Lambda Runtime API (2018-06-01) as a pure function: a request's method and path, and the
/// request id the process holds now, in; what to do out. No sockets, so every row is a test
/// (`RuntimeAPIRouterTests`). Status codes are the ones the API's OpenAPI document gives:
/// 400 for a request the runtime should not have made (a request id it does not hold), 404 and
/// 405 for paths and methods the API does not have.
public enum RuntimeAPIRouter {
    public static let version = "2018-06-01"

    /// What a request asks for, once it passed the checks.
    public enum Route: Sendable, Equatable {
        /// `GET /runtime/invocation/next`: wait for a task.
        case next
        /// `POST /runtime/invocation/{id}/response` for the task the process holds.
        case response(requestID: String)
        /// `POST /runtime/invocation/{id}/error` for the task the process holds.
        case error(requestID: String)
        /// `POST /runtime/init/error`: the runtime could not start.
        case initError
        /// Answered with this status and Lambda's error body; nothing else happens.
        case refuse(Refusal)
    }

    public struct Refusal: Sendable, Equatable {
        public var status: Int
        public var errorType: String
        public var message: String

        public init(status: Int, errorType: String, message: String) {
            self.status = status
            self.errorType = errorType
            self.message = message
        }

        /// `{"errorMessage": …, "errorType": …}`, as the API answers errors.
        public var body: String {
            #"{"errorMessage":\#(JSONText.encode(message)),"errorType":\#(JSONText.encode(errorType))}"#
        }
    }

    /// - Parameters:
    ///   - held: the request id of the task the process runs now, if any.
    public static func route(method: String, path uri: String, held: String?) -> Route {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // "", "2018-06-01", "runtime", …
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == version, parts[2] == "runtime" else {
            return .refuse(Refusal(status: 404, errorType: "NotFound", message: "no such Runtime API resource: \(path)"))
        }
        let rest = Array(parts[3...])
        switch rest {
        case ["invocation", "next"]:
            return method == "GET" ? .next : methodNotAllowed(method, path)
        case ["init", "error"]:
            return method == "POST" ? .initError : methodNotAllowed(method, path)
        default:
            break
        }
        guard rest.count == 3, rest[0] == "invocation", rest[2] == "response" || rest[2] == "error" else {
            return .refuse(Refusal(status: 404, errorType: "NotFound", message: "no such Runtime API resource: \(path)"))
        }
        guard method == "POST" else { return methodNotAllowed(method, path) }
        let requestID = rest[1]
        guard let held, requestID == held else {
            return .refuse(Refusal(
                status: 400, errorType: "InvalidRequestID",
                message: "this process holds no invocation with request id \(requestID)"))
        }
        return rest[2] == "response" ? .response(requestID: requestID) : .error(requestID: requestID)
    }

    private static func methodNotAllowed(_ method: String, _ path: String) -> Route {
        .refuse(Refusal(status: 405, errorType: "MethodNotAllowed", message: "\(method) is not allowed on \(path)"))
    }
}
