import HTTPServing
import Logging
import NIOCore
import NIOHTTP1

/// The loopback HTTP/1.1 listener of one warm process (the Lambda Runtime API), on
/// `127.0.0.1:0`. A connection is served only when `admit(peerPort)` says so (the peer's uid,
/// `PeerCredentials`); others are closed at once. Each request is answered by `handler`, which
/// may take as long as it likes (`/next` is a long poll). Bodies over `maxBodyBytes` are cut and
/// flagged, so the handler can fail the task rather than buffer without bound.
final class RuntimeAPIServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
        /// The body's full size (more than `body.count` when it was cut at `maxBodyBytes`).
        var bodyBytes: Int
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []

        static func json(_ status: Int, _ text: String) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
        }
    }

    typealias Handler = @Sendable (Request) async -> Response

    let port: Int
    private let listener: HTTPListener
    private typealias Connection = HTTPListener.Connection

    static func start(
        maxBodyBytes: Int, logger: Logger, admit: @escaping @Sendable (_ peerPort: Int, _ serverPort: Int) -> Bool,
        handler: @escaping Handler
    ) async throws -> RuntimeAPIServer {
        let listener = try await HTTPListener.bind(host: "127.0.0.1", port: 0, backlog: 16) { connection in
            let peerPort = connection.channel.remoteAddress?.port ?? -1
            let port = connection.channel.localAddress?.port ?? -1
            guard admit(peerPort, port) else {
                logger.warning("Refused a Runtime API connection from another user", metadata: ["peer_port": "\(peerPort)"])
                try? await connection.executeThenClose { _, _ in }
                return
            }
            await serve(connection, maxBodyBytes: maxBodyBytes, logger: logger, handler: handler)
        }
        return RuntimeAPIServer(listener: listener)
    }

    private init(listener: HTTPListener) {
        self.port = listener.port
        self.listener = listener
    }

    /// Stops listening and closes every connection; returns when done.
    func shutdown() async {
        await listener.shutdown()
    }

    private static func serve(_ connection: Connection, maxBodyBytes: Int, logger: Logger, handler: Handler) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var bodyBytes = 0
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = []
                        bodyBytes = 0
                    case .body(let chunk):
                        bodyBytes += chunk.readableBytes
                        let room = max(0, maxBodyBytes - body.count)
                        if room > 0 { body += chunk.getBytes(at: chunk.readerIndex, length: min(room, chunk.readableBytes)) ?? [] }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let response = await handler(Request(
                            method: requestHead.method.rawValue, uri: requestHead.uri, headers: requestHead.headers,
                            body: body, bodyBytes: bodyBytes))
                        var headers = HTTPHeaders(response.headers)
                        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                        let keepAlive = requestHead.isKeepAlive && !Task.isCancelled
                        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                        let status = HTTPResponseStatus(statusCode: response.status)
                        try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers)))
                        if !response.body.isEmpty {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
                        }
                        try await outbound.write(.end(nil))
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("Runtime API connection ended", metadata: ["error": "\(error)"])
        }
    }
}
