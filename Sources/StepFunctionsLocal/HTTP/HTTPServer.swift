import HTTPServing
public import Logging
import NIOCore
import NIOHTTP1

/// A small HTTP/1.1 server for loopback use: keep-alive, whole-body requests, one async handler.
///
/// It carries the local Step Functions endpoint and the stand-ins tests use for IMDS, the
/// container credentials endpoint and STS. Each request is answered by `handler`, which may take
/// as long as it likes (a long poll); `shutdown()` cancels handlers still running.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPServerRequest) async -> HTTPServerReply

    /// The address the server listens on (port resolved when 0 was asked for).
    public let host: String
    public let port: Int
    private let listener: HTTPListener

    // Outbound parts carry `IOData`: the pipeline's HTTPServerProtocolErrorHandler unwraps writes as
    // `HTTPServerResponsePart` and traps on any other type.
    private typealias Connection = HTTPListener.Connection

    /// Binds and starts serving. `port` 0 lets the OS choose.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        maxBodyBytes: Int = 4 << 20,
        logger: Logger = Logger(label: "stepworker.http-server"),
        handler: @escaping Handler
    ) async throws -> HTTPServer {
        let listener = try await HTTPListener.bind(host: host, port: port, backlog: 512) { connection in
            await serve(connection, maxBodyBytes: maxBodyBytes, logger: logger, handler: handler)
        }
        return HTTPServer(host: host, listener: listener)
    }

    private init(host: String, listener: HTTPListener) {
        self.host = host
        self.port = listener.port
        self.listener = listener
    }

    /// `http://host:port`.
    public var baseURL: String { "http://\(host):\(port)" }

    /// Stops listening, closes every connection and cancels running handlers; returns when done.
    public func shutdown() async {
        await listener.shutdown()
    }

    /// Returns when the server has stopped.
    public func waitUntilStopped() async {
        await listener.waitUntilStopped()
    }

    private static func serve(_ connection: Connection, maxBodyBytes: Int, logger: Logger, handler: Handler) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var tooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                        tooLarge = false
                    case .body(var chunk):
                        if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                            tooLarge = true
                        } else {
                            body.writeBuffer(&chunk)
                        }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let reply: HTTPServerReply
                        if tooLarge {
                            reply = .respond(HTTPServerResponse(status: .payloadTooLarge))
                        } else {
                            let request = HTTPServerRequest(
                                method: requestHead.method, uri: requestHead.uri, headers: requestHead.headers, body: body)
                            reply = await handler(request)
                        }
                        guard case .respond(let response) = reply else { return }
                        var headers = response.headers
                        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
                        let keepAlive = requestHead.isKeepAlive && !Task.isCancelled
                        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: response.status, headers: headers)))
                        if response.body.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(response.body))) }
                        try await outbound.write(.end(nil))
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection ended", metadata: ["error": "\(error)"])
        }
    }
}
