import Foundation
import NIOHTTP1
import StepFunctions
import StepFunctionsLocal
import Synchronization

/// A loopback HTTP server that answers each request with the next scripted reply and records
/// what it was sent: for testing the client's transport, retries and error parsing.
final class ScriptedServer: Sendable {
    struct Received: Sendable {
        var target: String?
        var headers: HTTPHeaders
        var body: [UInt8]
        var json: [String: any Sendable] {
            (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: any Sendable]) ?? [:]
        }
    }

    enum Reply: Sendable {
        case ok(String)
        case error(status: HTTPResponseStatus, type: String, message: String)
        case drop
    }

    private let script: Script
    let server: HTTPServer

    private init(script: Script, server: HTTPServer) {
        self.script = script
        self.server = server
    }

    static func start(_ replies: [Reply]) async throws -> ScriptedServer {
        let script = Script(replies: replies)
        return ScriptedServer(script: script, server: try await HTTPServer.start { request in script.answer(request) })
    }

    var received: [Received] { script.received }
    var url: String { server.baseURL }
}

private final class Script: Sendable {
    typealias Reply = ScriptedServer.Reply
    private let state: Mutex<(replies: [Reply], received: [ScriptedServer.Received])>

    init(replies: [Reply]) {
        state = Mutex((replies, []))
    }

    var received: [ScriptedServer.Received] { state.withLock { $0.received } }

    func answer(_ request: HTTPServerRequest) -> HTTPServerReply {
        let reply: Reply = state.withLock { state in
            state.received.append(ScriptedServer.Received(target: request.headers.first(name: "X-Amz-Target"), headers: request.headers, body: request.bodyBytes))
            return state.replies.isEmpty ? .ok("{}") : state.replies.removeFirst()
        }
        switch reply {
        case .ok(let body):
            return .respond(HTTPServerResponse(status: .ok, contentType: Wire.contentType, body: Array(body.utf8)))
        case .error(let status, let type, let message):
            var response = HTTPServerResponse.json(Wire.ErrorBody(type: type, message: message), status: status, contentType: Wire.contentType)
            response.headers.add(name: "X-Amzn-ErrorType", value: type)
            return .respond(response)
        case .drop:
            return .dropConnection
        }
    }
}
