public import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A small HTTP/1.1 client for the daemon's few request shapes (signed JSON posts, credential
/// documents): keep-alive connections pooled per origin, TLS through NIOSSL with the system's
/// trust store, one deadline per exchange, and no redirects, proxies, compression or streaming.
///
/// Connections in use are not limited: every caller bounds its own concurrency (the supervisor
/// counts its polls, results and heartbeats). Idle ones are kept up to a number per origin and
/// for a time, newest first, so a burst's extra connections close again.
public final class HTTP1Client: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(10)
        /// An idle connection is closed after this long, before a server or load balancer would.
        public var idleTimeout: Duration = .seconds(50)
        public var maxIdleConnectionsPerOrigin: Int = 64
        /// A PEM file of the certificate authorities to trust instead of the system's
        /// (what the AWS SDKs read from `AWS_CA_BUNDLE`).
        public var caBundlePath: String?

        public init() {}
    }

    public let configuration: Configuration
    private let group: any EventLoopGroup
    private let state = Mutex(State())
    private let tls = Mutex<Result<NIOSSLContext, HTTP1Error>?>(nil)

    private struct State {
        var idle: [HTTP1Origin: [Connection]] = [:]
        var open: [ObjectIdentifier: Connection] = [:]
        var shutDown = false
    }

    /// `eventLoopGroup`: NIO's shared one unless given.
    public init(configuration: Configuration = .init(), eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
    }

    /// Sends `request` and reads the whole answer within `timeout` (connecting included).
    /// Throws `HTTP1Error` or `CancellationError`.
    public func execute(_ request: HTTP1Request, timeout: Duration, maxResponseBytes: Int = 8 << 20) async throws -> HTTP1Response {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        // A pooled connection the server closed a moment ago takes nothing sent with it: try
        // the next one. Three tries bound it when the server closes every connection at once.
        for _ in 0..<3 {
            try Task.checkCancellation()
            let connection = try await connection(to: request.origin, deadline: deadline)
            do {
                let outcome = try await connection.exchange(request, limit: maxResponseBytes, deadline: deadline)
                checkIn(connection, reusable: outcome.reusable)
                return outcome.response
            } catch let error as HTTP1Error where error == HTTP1ConnectionHandler.notSent {
                forget(connection)
            } catch {
                // Closed already when the exchange failed; not when its deadline passed first.
                forget(connection)
                connection.abort(error)
                throw error
            }
        }
        throw HTTP1Error(.connectionClosed, "closed before the request was sent, three times")
    }

    /// Closes every connection; exchanges in progress fail with `shutDown`, later ones too.
    public func shutdown() async throws {
        let all = state.withLock { state in
            state.shutDown = true
            let all = Array(state.open.values)
            state.open = [:]
            state.idle = [:]
            return all
        }
        for connection in all { connection.abort(HTTP1Error(.shutDown)) }
        for connection in all { try? await connection.channel.closeFuture.get() }
    }

    /// Loads the TLS set-up now (the system's trust store, or `caBundlePath`), so that a bad
    /// bundle stops a start with its name instead of failing every call later.
    public func prepareTLS() throws(HTTP1Error) {
        _ = try tlsContext()
    }

    /// Idle connections in the pool, for tests that wait for the pool to notice a close.
    package var idleConnectionCount: Int {
        state.withLock { $0.idle.values.reduce(0) { $0 + $1.count } }
    }

    // MARK: The pool

    private func connection(to origin: HTTP1Origin, deadline: NIODeadline) async throws -> Connection {
        let pooled: Connection? = try state.withLock { state in
            guard !state.shutDown else { throw HTTP1Error(.shutDown) }
            while let connection = state.idle[origin]?.popLast() {
                if connection.channel.isActive { return connection }
                state.open[ObjectIdentifier(connection)] = nil
            }
            return nil
        }
        if let pooled { return pooled }
        let connection = try await connect(to: origin, deadline: deadline)
        let registered = state.withLock { state in
            guard !state.shutDown else { return false }
            state.open[ObjectIdentifier(connection)] = connection
            return true
        }
        guard registered else {
            connection.abort(HTTP1Error(.shutDown))
            throw HTTP1Error(.shutDown)
        }
        connection.channel.closeFuture.whenComplete { [weak self] _ in self?.forget(connection) }
        return connection
    }

    private func checkIn(_ connection: Connection, reusable: Bool) {
        let kept = reusable && state.withLock { state in
            guard !state.shutDown, state.open[ObjectIdentifier(connection)] != nil,
                  state.idle[connection.origin, default: []].count < configuration.maxIdleConnectionsPerOrigin
            else { return false }
            state.idle[connection.origin, default: []].append(connection)
            return true
        }
        // A kept connection's handler has already started its idle clock, on its event loop.
        if !kept {
            forget(connection)
            connection.abort(HTTP1Error(.connectionClosed))
        }
    }

    private func forget(_ connection: Connection) {
        state.withLock { state in
            let id = ObjectIdentifier(connection)
            guard state.open.removeValue(forKey: id) != nil else { return }
            state.idle[connection.origin]?.removeAll { ObjectIdentifier($0) == id }
        }
    }

    private func connect(to origin: HTTP1Origin, deadline: NIODeadline) async throws -> Connection {
        let left = deadline - .now()
        guard left > .zero else { throw HTTP1Error(.timeout) }
        let sslContext = origin.tls ? try tlsContext() : nil
        let loop = group.next()
        let handler = NIOLoopBoundBox.makeBoxSendingValue(
            HTTP1ConnectionHandler(idleTimeout: TimeAmount(configuration.idleTimeout)), eventLoop: loop)
        let serverName = Self.isIPAddress(origin.host) ? nil : origin.host
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(min(TimeAmount(configuration.connectTimeout), left))
            // `.tcpOption`: `.socketOption(.tcp_nodelay)` sets SOL_SOCKET option 1, SO_DEBUG, which
            // needs CAP_NET_ADMIN and fails every connect under the hardened unit.
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(handler.value)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: origin.host, port: origin.port).get()
            return Connection(origin: origin, channel: channel, handler: handler)
        } catch {
            throw Self.connectError(error, deadlineReached: NIODeadline.now() >= deadline)
        }
    }

    private func tlsContext() throws(HTTP1Error) -> NIOSSLContext {
        try tls.withLock { (cached) throws(HTTP1Error) -> NIOSSLContext in
            if let cached { return try cached.get() }
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if let path = configuration.caBundlePath { tlsConfiguration.trustRoots = .file(path) }
            let made: Result<NIOSSLContext, HTTP1Error>
            do {
                made = .success(try NIOSSLContext(configuration: tlsConfiguration))
            } catch {
                let source = configuration.caBundlePath.map { "CA bundle \($0)" } ?? "the system trust store"
                made = .failure(HTTP1Error(.connectFailed, "TLS set-up from \(source): \(error)"))
            }
            cached = made
            return try made.get()
        }
    }

    static func connectError(_ error: any Error, deadlineReached: Bool) -> HTTP1Error {
        if let error = error as? HTTP1Error { return error }
        if case ChannelError.connectTimeout = error { return HTTP1Error(deadlineReached ? .timeout : .connectTimeout) }
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.first { return HTTP1Error(.connectFailed, "\(failure.error)") }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return HTTP1Error(.connectFailed, "\(error.host): name not resolved") }
        }
        return HTTP1Error(.connectFailed, "\(error)")
    }

    /// An IP literal gets no server name (SNI allows host names only); the certificate is then
    /// checked against the address.
    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (!host.isEmpty && host.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber })
    }
}

/// One pooled connection: the channel, and its handler, which is touched on its event loop only.
private final class Connection: Sendable {
    let origin: HTTP1Origin
    let channel: any Channel
    let handler: NIOLoopBoundBox<HTTP1ConnectionHandler>

    init(origin: HTTP1Origin, channel: any Channel, handler: NIOLoopBoundBox<HTTP1ConnectionHandler>) {
        self.origin = origin
        self.channel = channel
        self.handler = handler
    }

    func exchange(_ request: HTTP1Request, limit: Int, deadline: NIODeadline) async throws -> HTTP1ConnectionHandler.Outcome {
        let left = deadline - .now()
        guard left > .zero else { throw HTTP1Error(.timeout) }
        let promise = channel.eventLoop.makePromise(of: HTTP1ConnectionHandler.Outcome.self)
        return try await withTaskCancellationHandler {
            let handler = self.handler
            channel.eventLoop.execute { handler.value.start(request, limit: limit, timeout: left, promise: promise) }
            return try await promise.futureResult.get()
        } onCancel: {
            abort(CancellationError())
        }
    }

    func abort(_ error: any Error) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.abort(error) }
    }
}
