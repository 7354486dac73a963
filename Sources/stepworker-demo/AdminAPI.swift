import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// The local endpoint's admin API (`/_local/…`), the way a test or a demo submits tasks and reads
/// their outcome.
struct AdminAPI: Sendable {
    struct SubmitTask: Encodable {
        var activityArn: String
        var input: String
        var heartbeatSeconds: Int?
        var timeoutSeconds: Int?
    }

    struct Submitted: Decodable {
        var id: String
    }

    struct TaskState: Decodable {
        var id: String
        var status: String
        var output: String?
        var error: String?
        var cause: String?
        var heartbeatCount: Int?
        var workerName: String?
    }

    let baseURL: String
    let http: HTTPClient

    func submit(_ task: SubmitTask) async throws -> String {
        try await request("POST", "/_local/tasks", body: task, as: Submitted.self).id
    }

    func task(_ id: String) async throws -> TaskState {
        try await request("GET", "/_local/tasks/\(id)", body: String?.none, as: TaskState.self)
    }

    private func request<Body: Encodable, Answer: Decodable>(
        _ method: String, _ path: String, body: Body?, as: Answer.Type
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .RAW(value: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let payload = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok || response.status == .created else {
            throw DemoError("\(method) \(path) answered \(response.status.code): \(String(buffer: payload))")
        }
        return try JSONDecoder().decode(Answer.self, from: payload)
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
