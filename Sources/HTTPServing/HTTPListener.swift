public import NIOCore
public import NIOHTTP1
import NIOPosix
import Synchronization

/// The accept side the daemon's three HTTP servers share (the local endpoint, `/metrics`, the
/// Lambda Runtime API): a listener with NIO's HTTP/1.1 server pipeline, and every accepted
/// connection owned by a task of its own from the moment it exists.
///
/// What a connection may hold is bounded here, once for every server (`Limits`): at most
/// `maxConnections` at a time (one more is closed as soon as it is accepted, before any other
/// work), and an idle one is closed (`IdlePolicy`). `admit` decides on the event loop, before a
/// task exists for the connection, whether it is served at all.
///
/// Why not `ServerBootstrap.bind(…) { NIOAsyncChannel }` with a `for await` over the
/// connections: a connection accepted while that loop is ending sits in the listener's buffer,
/// is dropped unserved, and its `NIOAsyncWriter` traps on deinit ("Deinited NIOAsyncWriter
/// without calling finish()", the window of swift-nio #3481). Here the child channel's
/// initializer hands each connection straight to `serve` (or, after `shutdown`, closes it), so
/// none is ever dropped.
public final class HTTPListener: Sendable {
    public typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// When an open connection with nothing to do is closed.
    public enum IdlePolicy: Sendable, Equatable {
        /// Never (the local endpoint, for tests and demos).
        case none
        /// When no request is being answered for this long: the time a client has, after the
        /// connection opens or a response ends, to send a whole request.
        case always(TimeAmount)
        /// As `.always`, but only until the first request: a client that has asked once may
        /// keep the connection idle for as long as it likes (a Lambda runtime between tasks).
        case untilFirstRequest(TimeAmount)
    }

    public struct Limits: Sendable, Equatable {
        public var maxConnections: Int
        public var idle: IdlePolicy

        public init(maxConnections: Int, idle: IdlePolicy) {
            self.maxConnections = maxConnections
            self.idle = idle
        }

        public static let unbounded = Limits(maxConnections: .max, idle: .none)
    }

    /// Why a connection was closed unserved.
    public enum Refusal: Sendable, Equatable {
        /// `maxConnections` were open already.
        case atCapacity(Int)
        /// `admit` said no.
        case notAdmitted
    }

    /// The port listened on (the real one when 0 was asked for).
    public let port: Int
    private let channel: any Channel
    private let connections: Connections

    /// Binds `host:port`; `serve` runs for each connection, in a task that `shutdown` cancels.
    /// `serve` must use the connection (`executeThenClose`); it closes when `serve` returns.
    /// `admit` (on the event loop, so it must not block) sees the connection's local and remote
    /// addresses; `refused` hears of every connection closed unserved.
    public static func bind(
        host: String, port: Int, backlog: Int32 = 256, limits: Limits = .unbounded,
        admit: (@Sendable (_ local: SocketAddress?, _ remote: SocketAddress?) -> Bool)? = nil,
        refused: (@Sendable (Refusal, _ remote: SocketAddress?) -> Void)? = nil,
        serve: @escaping @Sendable (Connection) async -> Void
    ) async throws -> HTTPListener {
        let connections = Connections(serve: serve, maxConnections: limits.maxConnections)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                // Refusals first, cheapest first: no pipeline, no task, no lookup for a
                // connection over the cap.
                guard let ticket = connections.reserve() else {
                    refused?(.atCapacity(limits.maxConnections), child.remoteAddress)
                    return child.close()
                }
                if let admit, !admit(child.localAddress, child.remoteAddress) {
                    connections.unreserve(ticket)
                    refused?(.notAdmitted, child.remoteAddress)
                    return child.close()
                }
                return child.eventLoop.makeCompletedFuture {
                    do {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline()
                        if let idle = IdleConnectionCloser(limits.idle) {
                            try child.pipeline.syncOperations.addHandler(idle)
                        }
                        connections.accept(try Connection(wrappingChannelSynchronously: child), ticket: ticket)
                    } catch {
                        connections.unreserve(ticket)
                        throw error
                    }
                }
            }
            .bind(host: host, port: port).get()
        return HTTPListener(port: channel.localAddress?.port ?? port, channel: channel, connections: connections)
    }

    private init(port: Int, channel: any Channel, connections: Connections) {
        self.port = port
        self.channel = channel
        self.connections = connections
    }

    /// How many connections are open now.
    public var openConnections: Int { connections.count }

    /// Stops listening first (so no connection arrives after), then cancels every connection's
    /// task, including any the accept side was still handing over, and returns once all have
    /// closed.
    public func shutdown() async {
        try? await channel.close()
        await connections.shutdown()
    }

    /// Returns once the listener has closed and its connections have ended.
    public func waitUntilStopped() async {
        try? await channel.closeFuture.get()
        await connections.waitForAll()
    }
}
