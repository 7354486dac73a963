import HTTPServing
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The loopback HTTP/1.1 listener of one warm process (the Lambda Runtime API), on
/// `127.0.0.1:0`. At most `maxConnections` connections at once; a connection is served only
/// when `RuntimeAPIAdmission` says so (the process is running, and the peer's own socket,
/// looked up by the exact 4-tuple, is a connected socket of the handler's user); others are
/// closed at once, on the event loop, and logged at a bounded rate (`RefusalLog`). A connection
/// that has not sent a whole request within `firstRequestTimeout` is closed; after its first
/// request a runtime may keep it idle while its handler runs. Each request is answered by
/// `handler`, which may take as long as it likes (`/next` is a long poll). Bodies over
/// `maxBodyBytes` are cut and flagged, so the handler can fail the task rather than buffer
/// without bound.
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

    /// Connections one runtime may hold at once: awslambdaric keeps one; a runtime that opens a
    /// connection per request needs two at a handover. More is a runtime holding descriptors of
    /// the daemon's.
    static let maxConnections = 4
    /// How long an admitted connection has to send its first whole request.
    static let firstRequestTimeout = TimeAmount.seconds(10)

    let port: Int
    private let listener: HTTPListener
    private let gate: Gate
    private typealias Connection = HTTPListener.Connection

    /// Listens for the process of `allowedUID`; no connection is admitted until
    /// `processRunning(true)`.
    static func start(
        maxBodyBytes: Int, allowedUID: UInt32, logger: Logger, handler: @escaping Handler
    ) async throws -> RuntimeAPIServer {
        let gate = Gate(RuntimeAPIAdmission(allowedUID: allowedUID, overflowUID: overflowUID))
        let refusals = RefusalLog(logger: logger)
        let listener = try await HTTPListener.bind(
            // A backlog long enough that another user's connect loop does not make the kernel
            // drop the runtime's own SYN (a 1 s retransmit) while refusals are being made.
            host: "127.0.0.1", port: 0, backlog: 256,
            limits: .init(maxConnections: maxConnections, idle: .untilFirstRequest(firstRequestTimeout)),
            admit: { local, remote in
                let verdict = gate.verdict(local: local, remote: remote)
                if case .refuse(let refusal) = verdict {
                    refusals.refused("Refused a Runtime API connection", metadata: [
                        "reason": "\(refusal)", "peer_port": "\(remote?.port ?? -1)",
                    ])
                }
                return verdict == .admit
            },
            refused: { refusal, remote in
                guard case .atCapacity(let limit) = refusal else { return }  // .notAdmitted: logged above
                refusals.refused("Refused a Runtime API connection", metadata: [
                    "reason": "the process holds \(limit) connections already", "peer_port": "\(remote?.port ?? -1)",
                ])
            }
        ) { connection in
            await serve(connection, maxBodyBytes: maxBodyBytes, logger: logger, handler: handler)
        }
        return RuntimeAPIServer(listener: listener, gate: gate)
    }

    private init(listener: HTTPListener, gate: Gate) {
        self.port = listener.port
        self.listener = listener
        self.gate = gate
    }

    /// The uid unmapped users read as in this process's user namespace, once.
    private static let overflowUID = PeerCredentials.overflowUIDIfPartial()

    /// Whether connections are expected: from just before the process is spawned until it ends.
    func processRunning(_ running: Bool) {
        gate.admission.withLock { $0.processRunning(running) }
    }

    /// The connections open now (admitted or being decided).
    var openConnections: Int { listener.openConnections }

    /// The admission rules of one listener, and the lookup they ask for.
    private final class Gate: Sendable {
        let admission: Mutex<RuntimeAPIAdmission>

        init(_ admission: RuntimeAPIAdmission) {
            self.admission = Mutex(admission)
        }

        /// The verdict on one accepted connection: a lookup only when one is expected.
        func verdict(local: SocketAddress?, remote: SocketAddress?) -> RuntimeAPIAdmission.Verdict {
            if let refusal = admission.withLock({ $0.precheck() }) { return .refuse(refusal) }
            guard let local, let remote, let localIP = local.ipAddress, let remoteIP = remote.ipAddress,
                let server = PeerCredentials.Endpoint(ipv4: localIP, port: local.port ?? -1),
                let peer = PeerCredentials.Endpoint(ipv4: remoteIP, port: remote.port ?? -1)
            else { return .refuse(.unknownPeer) }
            let lookup = PeerCredentials.lookUp(peer: peer, server: server)
            return admission.withLock { $0.judge(lookup) }
        }
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
