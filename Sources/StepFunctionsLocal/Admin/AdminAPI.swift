import FoundationEssentials
import NIOCore
import NIOHTTP1
import StepFunctions

/// The unsigned JSON admin API under `/_local/` (see docs/local-endpoint.md):
///
/// - `POST /_local/activities` `{"name"}` -> `{"activityArn"}`
/// - `POST /_local/tasks` `{"activityArn","input","heartbeatSeconds","timeoutSeconds"}` -> `{"id"}`
/// - `GET /_local/tasks[?status=S&activityArn=A]` -> `{"tasks":[task…]}`
/// - `GET /_local/tasks/ID[?waitSeconds=N]` -> task (waits up to N s for it to finish)
/// - `POST /_local/faults` (a `FaultRule`) -> `{"id"}`; `GET` -> `{"faults":[…]}`; `DELETE` clears
/// - `GET /_local/stats` -> `LocalEndpointStats`
struct AdminAPI: Sendable {
    static let prefix = "/_local/"

    let endpoint: LocalEndpoint

    func handle(_ request: HTTPServerRequest) async -> HTTPServerReply {
        do throws(LocalServiceError) {
            return .respond(try await route(request))
        } catch {
            return .respond(error.response)
        }
    }

    private func route(_ request: HTTPServerRequest) async throws(LocalServiceError) -> HTTPServerResponse {
        let path = request.path.dropFirst(Self.prefix.count).split(separator: "/").map(String.init)
        let query = Self.queryItems(request.query)
        switch (request.method, path.first, path.count) {
        case (.POST, "activities", 1):
            let body = try ServiceAPI.decode(ActivityRequest.self, request.body)
            let activity = try await endpoint.createActivity(name: body.name)
            return .json(["activityArn": activity.arn])
        case (.POST, "tasks", 1):
            let submission = try ServiceAPI.decode(TaskSubmission.self, request.body)
            return .json(["id": try await endpoint.submitTask(submission)])
        case (.GET, "tasks", 1):
            var status: LocalTask.Status?
            if let text = query["status"] {
                guard let value = LocalTask.Status(rawValue: text) else { throw .validation("Unknown status '\(text)'") }
                status = value
            }
            let tasks = await endpoint.tasks(status: status, activityArn: query["activityArn"])
            return .json(["tasks": tasks.map(TaskView.init)])
        case (.GET, "tasks", 2):
            let task: LocalTask?
            if let text = query["waitSeconds"] {
                guard let seconds = Double(text), seconds >= 0, seconds <= 3600 else {
                    throw .validation("waitSeconds must be a number from 0 to 3600")
                }
                task = await endpoint.waitForTask(id: path[1], timeout: .milliseconds(Int64(seconds * 1000)))
            } else {
                task = await endpoint.task(id: path[1])
            }
            guard let task else { throw Self.notFound("No task '\(path[1])'") }
            return .json(TaskView(task))
        case (.POST, "faults", 1):
            let rule = try ServiceAPI.decode(FaultRule.self, request.body)
            guard rule.problems.isEmpty else { throw .validation(rule.problems.joined(separator: "; ")) }
            return .json(["id": await endpoint.addFault(rule)])
        case (.GET, "faults", 1):
            return .json(["faults": await endpoint.pendingFaults()])
        case (.DELETE, "faults", 1):
            await endpoint.clearFaults()
            return .json(Wire.Empty())
        case (.GET, "stats", 1):
            return .json(await endpoint.stats())
        default:
            throw Self.notFound("No admin route \(request.method.rawValue) \(request.path)")
        }
    }

    struct ActivityRequest: Decodable {
        var name: String
    }

    static func notFound(_ message: String) -> LocalServiceError {
        LocalServiceError(code: "NotFound", message: message, status: .notFound, namespace: "stepworker.local")
    }

    /// `a=1&b=x%20y` -> `["a": "1", "b": "x y"]`.
    static func queryItems(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                percentDecoded(String($0).replacing("+", with: " ")) ?? String($0)
            }
            guard let name = parts.first else { continue }  // a pair that is just "="
            items[name] = parts.count > 1 ? parts[1] : ""
        }
        return items
    }

    /// `x%20y` -> `x y`; nil when a `%` is not followed by two hex digits or the bytes are not
    /// UTF-8 (as Foundation's `removingPercentEncoding`).
    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var rest = text.utf8[...]
        while let byte = rest.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// A task as the admin API shows it. Every key is always present (null when unset); times are
/// ISO 8601 in UTC with milliseconds.
struct TaskView: Encodable {
    var task: LocalTask

    init(_ task: LocalTask) {
        self.task = task
    }

    enum CodingKeys: String, CodingKey {
        case id, activityArn, status, input, output, error, cause, heartbeatSeconds, timeoutSeconds, heartbeatCount, workerName
        case scheduledAt, startedAt, finishedAt, lastHeartbeatAt, taskTokenFingerprint
        case resultAttempts, rejectedResults, conflictingResults
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(task.id, forKey: .id)
        try container.encode(task.activityArn, forKey: .activityArn)
        try container.encode(task.status.rawValue, forKey: .status)
        try container.encode(task.input, forKey: .input)
        try container.encode(task.output, forKey: .output)
        try container.encode(task.error, forKey: .error)
        try container.encode(task.cause, forKey: .cause)
        try container.encode(task.heartbeatSeconds, forKey: .heartbeatSeconds)
        try container.encode(task.timeoutSeconds, forKey: .timeoutSeconds)
        try container.encode(task.heartbeatCount, forKey: .heartbeatCount)
        try container.encode(task.workerName, forKey: .workerName)
        try container.encode(Self.format(task.scheduledAt), forKey: .scheduledAt)
        try container.encode(task.startedAt.map(Self.format), forKey: .startedAt)
        try container.encode(task.finishedAt.map(Self.format), forKey: .finishedAt)
        try container.encode(task.lastHeartbeatAt.map(Self.format), forKey: .lastHeartbeatAt)
        try container.encode(task.token.map { TaskToken($0).fingerprint }, forKey: .taskTokenFingerprint)
        try container.encode(task.resultAttempts, forKey: .resultAttempts)
        try container.encode(task.rejectedResults, forKey: .rejectedResults)
        try container.encode(task.conflictingResults, forKey: .conflictingResults)
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
