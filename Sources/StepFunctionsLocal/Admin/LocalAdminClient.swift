import NIOHTTP1
import FoundationEssentials
import NIOCore
import NIOFoundationEssentialsCompat
public import StepFunctions

/// A client of the local endpoint's admin API (`/_local/…`): how tests, benchmarks and
/// `make demo` submit tasks, read their outcome, inject faults and read statistics.
public struct LocalAdminClient: Sendable {
    /// A task as `GET /_local/tasks/ID` shows it.
    public struct TaskState: Sendable, Decodable, Equatable {
        public var id: String
        public var activityArn: String
        /// `SCHEDULED`, `STARTED`, `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
        public var status: String
        public var input: String
        public var output: String?
        public var error: String?
        public var cause: String?
        public var heartbeatCount: Int
        public var workerName: String?
        public var scheduledAt: String
        public var startedAt: String?
        public var finishedAt: String?
        public var lastHeartbeatAt: String?
        /// `SendTaskSuccess`/`SendTaskFailure` calls that reached the task, the accepted one included.
        public var resultAttempts: Int
        /// Result calls refused because the task had already finished.
        public var rejectedResults: Int
        /// Refused result calls that contradicted the task's result (two different outcomes reported).
        public var conflictingResults: Int

        public var isFinished: Bool { ["SUCCEEDED", "FAILED", "TIMED_OUT"].contains(status) }
    }

    public struct AdminError: Error, CustomStringConvertible {
        public var status: Int
        public var body: String
        public var description: String { "admin API answered \(status): \(body)" }
    }

    public let baseURL: String
    private let httpClient: HTTP1Client

    /// `baseURL` is the endpoint's `http://host:port`; `httpClient` stays the caller's.
    public init(baseURL: String, httpClient: HTTP1Client) {
        self.baseURL = baseURL
        self.httpClient = httpClient
    }

    /// Creates (or finds) an activity; returns its ARN.
    public func createActivity(name: String) async throws -> String {
        struct Created: Decodable { var activityArn: String }
        return try await send("POST", "activities", body: ["name": name], as: Created.self).activityArn
    }

    /// Schedules a task; returns its id.
    public func submitTask(activityArn: String, input: String = "{}", heartbeatSeconds: Int? = nil, timeoutSeconds: Int? = nil) async throws -> String {
        struct Submission: Encodable {
            var activityArn: String
            var input: String
            var heartbeatSeconds: Int?
            var timeoutSeconds: Int?
        }
        struct Submitted: Decodable { var id: String }
        let submission = Submission(activityArn: activityArn, input: input, heartbeatSeconds: heartbeatSeconds, timeoutSeconds: timeoutSeconds)
        return try await send("POST", "tasks", body: submission, as: Submitted.self).id
    }

    /// The task now, or once it has finished when `waitUpTo` is given (at most that long).
    public func task(_ id: String, waitUpTo: Duration? = nil) async throws -> TaskState {
        let wait = waitUpTo.map { "?waitSeconds=\(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18)" } ?? ""
        return try await send("GET", "tasks/\(id)\(wait)", body: Optional<String>.none, as: TaskState.self, timeout: (waitUpTo ?? .zero) + .seconds(10))
    }

    /// Every task, optionally of one status or activity.
    public func tasks(status: String? = nil, activityArn: String? = nil) async throws -> [TaskState] {
        struct List: Decodable { var tasks: [TaskState] }
        var query: [String] = []
        if let status { query.append("status=\(status)") }
        if let activityArn { query.append("activityArn=\(PercentEncoding.encode(activityArn))") }
        let path = "tasks" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        return try await send("GET", path, body: Optional<String>.none, as: List.self).tasks
    }

    public func injectFault(_ rule: FaultRule) async throws {
        struct Added: Decodable { var id: Int }
        _ = try await send("POST", "faults", body: rule, as: Added.self)
    }

    /// The faults still to inject (`GET /_local/faults`), with what each has left.
    public func pendingFaults() async throws -> [FaultPlan.Entry] {
        struct List: Decodable { var faults: [FaultPlan.Entry] }
        return try await send("GET", "faults", body: Optional<String>.none, as: List.self).faults
    }

    public func clearFaults() async throws {
        struct Empty: Decodable {}
        _ = try await send("DELETE", "faults", body: Optional<String>.none, as: Empty.self)
    }

    public func stats() async throws -> LocalEndpointStats {
        try await send("GET", "stats", body: Optional<String>.none, as: LocalEndpointStats.self)
    }

    private func send<Body: Encodable, Answer: Decodable>(
        _ method: String, _ path: String, body: Body?, as: Answer.Type, timeout: Duration = .seconds(10)
    ) async throws -> Answer {
        var request = try HTTP1Request(method: HTTPMethod(rawValue: method), url: "\(baseURL)/_local/\(path)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = ByteBuffer(data: try JSONEncoder().encode(body))
        }
        let response = try await httpClient.execute(request, timeout: timeout + .seconds(1), maxResponseBytes: 64 << 20)
        let payload = response.body
        guard response.status == .ok else {
            throw AdminError(status: Int(response.status.code), body: String(buffer: payload))
        }
        return try JSONDecoder().decode(Answer.self, from: payload)
    }
}
