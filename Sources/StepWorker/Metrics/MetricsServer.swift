import HTTPServing
public import Logging
import NIOCore
import NIOHTTP1
public import Prometheus

/// The Prometheus endpoint of `[metrics] listen`: `GET /metrics` answers the registry in the text
/// exposition format (0.0.4); any other path is 404, any other method on `/metrics` 405.
///
/// Scrapes only read the registry: the metrics are recorded where things happen.
public final class MetricsServer: Sendable {
    /// The address could not be bound (in use, not local, no permission).
    public struct BindError: Error, CustomStringConvertible {
        /// `host:port`, or `[v6]:port`.
        public var address: String
        public var reason: String

        public var description: String { "metrics.listen: cannot listen on \(address): \(reason)" }
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Scrapers at once: Prometheus keeps one connection per target, a few servers scrape one
    /// host. More is someone holding the daemon's descriptors (any local user, and any host when
    /// `listen` is not loopback).
    public static let maxConnections = 16
    /// A connection must send a whole request within this, after it opens and after each
    /// answer: more than a 15 s scrape interval's keep-alive, far less than an attacker needs.
    static let idleTimeout = TimeAmount.seconds(30)

    public let host: String
    /// The port listened on (the real one when 0 was asked for).
    public let port: Int
    private let listener: HTTPListener

    private typealias Connection = HTTPListener.Connection

    /// Binds `host:port` and serves `registry` until `shutdown()`.
    public static func start(
        host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger
    ) async throws(BindError) -> MetricsServer {
        let listener: HTTPListener
        do {
            let refusals = RefusalLog(logger: logger)
            listener = try await HTTPListener.bind(
                host: host, port: port, limits: .init(maxConnections: maxConnections, idle: .always(idleTimeout)),
                refused: { _, remote in
                    refusals.refused("Refused a metrics connection: too many open", metadata: [
                        "limit": "\(maxConnections)", "peer": "\(remote.map { "\($0)" } ?? "?")",
                    ])
                }
            ) { connection in
                await serve(connection, registry: registry, logger: logger)
            }
        } catch {
            throw BindError(address: address(host, port), reason: "\(error)")
        }
        logger.info("Serving metrics", metadata: ["address": "\(address(host, listener.port))"])
        return MetricsServer(host: host, listener: listener)
    }

    private init(host: String, listener: HTTPListener) {
        self.host = host
        self.port = listener.port
        self.listener = listener
    }

    /// Stops listening and closes every connection; returns when done.
    public func shutdown() async {
        await listener.shutdown()
    }

    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The answer to one request, decided without I/O.
    struct Response {
        var status: HTTPResponseStatus
        var headers: [(String, String)]
        var body: [UInt8]
    }

    static func respond(method: HTTPMethod, uri: String, registry: PrometheusCollectorRegistry) -> Response {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == "/metrics" else {
            return Response(status: .notFound, headers: [("Content-Type", "text/plain")], body: Array("not found; try /metrics\n".utf8))
        }
        guard method == .GET || method == .HEAD else {
            return Response(
                status: .methodNotAllowed, headers: [("Content-Type", "text/plain"), ("Allow", "GET, HEAD")],
                body: Array("only GET\n".utf8))
        }
        var body: [UInt8] = []
        registry.emit(into: &body)
        return Response(status: .ok, headers: [("Content-Type", contentType)], body: body)
    }

    private static func serve(_ connection: Connection, registry: PrometheusCollectorRegistry, logger: Logger) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                    case .body:
                        continue  // no request here needs a body
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let response = respond(method: requestHead.method, uri: requestHead.uri, registry: registry)
                        var headers = HTTPHeaders(response.headers)
                        headers.add(name: "Content-Length", value: String(response.body.count))
                        let keepAlive = requestHead.isKeepAlive && !Task.isCancelled
                        if !keepAlive { headers.add(name: "Connection", value: "close") }
                        try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: response.status, headers: headers)))
                        if requestHead.method != .HEAD, !response.body.isEmpty {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
                        }
                        try await outbound.write(.end(nil))
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("Metrics connection ended", metadata: ["error": "\(error)"])
        }
    }
}
