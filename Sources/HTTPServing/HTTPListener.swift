public import NIOCore
public import NIOHTTP1
import NIOPosix
import Synchronization

/// The accept side the daemon's three HTTP servers share (the local endpoint, `/metrics`, the
/// Lambda Runtime API): a listener with NIO's HTTP/1.1 server pipeline, and every accepted
/// connection owned by a task of its own from the moment it exists.
///
/// Why not `ServerBootstrap.bind(…) { NIOAsyncChannel }` with a `for await` over the
/// connections: a connection accepted while that loop is ending sits in the listener's buffer,
/// is dropped unserved, and its `NIOAsyncWriter` traps on deinit ("Deinited NIOAsyncWriter
/// without calling finish()", the window of swift-nio #3481). Here the child channel's
/// initializer hands each connection straight to `serve` (or, after `shutdown`, closes it), so
/// none is ever dropped.
public final class HTTPListener: Sendable {
    public typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The port listened on (the real one when 0 was asked for).
    public let port: Int
    private let channel: any Channel
    private let connections: Connections

    /// Binds `host:port`; `serve` runs for each connection, in a task that `shutdown` cancels.
    /// `serve` must use the connection (`executeThenClose`); it closes when `serve` returns.
    public static func bind(
        host: String, port: Int, backlog: Int32 = 256,
        serve: @escaping @Sendable (Connection) async -> Void
    ) async throws -> HTTPListener {
        let connections = Connections(serve: serve)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    connections.accept(try Connection(wrappingChannelSynchronously: child))
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

    /// Stops listening first (so no connection arrives after), then cancels every connection's
    /// task and returns once all have closed.
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

/// Every accepted connection's task, until it ends.
private final class Connections: Sendable {
    typealias Connection = HTTPListener.Connection

    private struct State {
        var shutDown = false
        var next = 0
        var running: [Int: Task<Void, Never>] = [:]
        /// Tasks that ended before they were filed under `running`.
        var ended: Set<Int> = []
    }

    private let serve: @Sendable (Connection) async -> Void
    private let state = Mutex(State())

    init(serve: @escaping @Sendable (Connection) async -> Void) {
        self.serve = serve
    }

    /// Called on the connection's event loop, before it is active.
    func accept(_ connection: Connection) {
        let (id, open) = state.withLock { state in
            defer { state.next += 1 }
            return (state.next, !state.shutDown)
        }
        let serve = self.serve
        let task = Task {
            if open {
                await serve(connection)
            } else {
                try? await connection.executeThenClose { _, _ in }
            }
            self.state.withLock { state in
                if state.running.removeValue(forKey: id) == nil { state.ended.insert(id) }
            }
        }
        let cancel = state.withLock { state in
            if state.ended.remove(id) == nil { state.running[id] = task }
            return state.shutDown
        }
        if cancel { task.cancel() }
    }

    func shutdown() async {
        let tasks = state.withLock { state in
            state.shutDown = true
            return Array(state.running.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    func waitForAll() async {
        while true {
            let tasks = state.withLock { Array($0.running.values) }
            if tasks.isEmpty { return }
            for task in tasks { await task.value }
        }
    }
}
