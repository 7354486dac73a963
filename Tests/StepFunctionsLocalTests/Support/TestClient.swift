import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StepFunctions

/// A small client of the local endpoint for tests: service calls signed with `SigV4Signer` (when
/// given credentials) and admin calls, over real loopback HTTP.
struct TestClient: Sendable {
    /// One answer, as received.
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        }

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The error name without namespace (`TaskTimedOut`), or nil for a success.
        var errorType: String? {
            StepFunctionsError.errorName(type: json["__type"] as? String, header: headers.first(name: "X-Amzn-ErrorType"))
        }

        subscript(key: String) -> Any? { json[key] }
    }

    let http: HTTPClient
    let port: Int
    var credentials: AWSCredentials?
    var region = "us-east-1"

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Calls a service operation; `body` is JSON text or a dictionary.
    func call(
        _ operation: String, _ body: [String: any Sendable], date: Date = Date(), timeout: Duration = .seconds(10)
    ) async throws -> Reply {
        try await call(operation, raw: Self.jsonText(body), date: date, timeout: timeout)
    }

    func call(_ operation: String, raw body: String, date: Date = Date(), timeout: Duration = .seconds(10)) async throws -> Reply {
        var signing = SigningRequest(
            method: "POST", path: "/",
            headers: [
                .init(name: "Host", value: "127.0.0.1:\(port)"),
                .init(name: "Content-Type", value: Wire.contentType),
                .init(name: "X-Amz-Target", value: "\(Wire.targetPrefix).\(operation)"),
            ],
            body: Array(body.utf8))
        if let credentials {
            SigV4Signer(service: "states", region: region).sign(&signing, credentials: credentials, date: date)
        }
        var request = HTTPClientRequest(url: baseURL + "/")
        request.method = .POST
        for header in signing.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await send(request, timeout: timeout)
    }

    /// Calls the admin API.
    func admin(_ method: HTTPMethod, _ path: String, _ body: [String: any Sendable]? = nil, timeout: Duration = .seconds(10)) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: Self.jsonText(body))) }
        return try await send(request, timeout: timeout)
    }

    /// Submits a task through the admin API; its id.
    func submit(_ activityArn: String, input: String = "{}", heartbeatSeconds: Double? = nil, timeoutSeconds: Double? = nil) async throws -> String {
        var body: [String: any Sendable] = ["activityArn": activityArn, "input": input]
        if let heartbeatSeconds { body["heartbeatSeconds"] = heartbeatSeconds }
        if let timeoutSeconds { body["timeoutSeconds"] = timeoutSeconds }
        let reply = try await admin(.POST, "/_local/tasks", body)
        guard reply.status == 200, let id = reply["id"] as? String else { throw TestFailure("submit failed: \(reply.status) \(reply.text)") }
        return id
    }

    /// Creates an activity through the service API; its ARN.
    func createActivity(_ name: String) async throws -> String {
        let reply = try await call("CreateActivity", ["name": name])
        guard reply.status == 200, let arn = reply["activityArn"] as? String else {
            throw TestFailure("CreateActivity failed: \(reply.status) \(reply.text)")
        }
        return arn
    }

    private func send(_ request: HTTPClientRequest, timeout: Duration) async throws -> Reply {
        let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout / .milliseconds(1))))
        let body = try await response.body.collect(upTo: 8 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    static func jsonText(_ value: [String: any Sendable]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
