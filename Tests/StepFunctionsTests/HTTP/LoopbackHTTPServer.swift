import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A plain NIO HTTP/1.1 server on 127.0.0.1 whose answers the request path picks, for testing
/// `HTTP1Client` against a real peer: it counts connections, can close them all, and can speak
/// TLS with a certificate the test made.
///
/// - `/ok`: 200 "ok"; `/close`: 200 and `Connection: close`; `/hang`: no answer;
///   `/chunked`: a chunked body in three parts; `/big`: 100,000 bytes; `/echo`: the method and
///   body back; `/connection`: the number of the connection the request came on;
///   `/barrier?n=N`: "ok" once N such requests are waiting, so N connections are in use at once.
final class LoopbackHTTPServer: Sendable {
    let port: Int
    private let channel: any Channel
    private let box: Box

    private init(port: Int, channel: any Channel, box: Box) {
        self.port = port
        self.channel = channel
        self.box = box
    }

    var accepted: Int { box.state.withLock { $0.accepted } }

    static func start(tls: NIOSSLContext? = nil) async throws -> LoopbackHTTPServer {
        let box = Box()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let number = box.state.withLock { state in
                    state.accepted += 1
                    state.open.append(child)
                    return state.accepted
                }
                return child.eventLoop.makeCompletedFuture {
                    let pipeline = child.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.configureHTTPServerPipeline()
                    try pipeline.addHandler(Answer(connection: number, barrier: box.barrier))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LoopbackHTTPServer(port: channel.localAddress!.port!, channel: channel, box: box)
    }

    /// Closes every connection from the server's side, as an idle timeout would.
    func closeConnections() async {
        let open = box.state.withLock { state in
            defer { state.open = [] }
            return state.open
        }
        for channel in open { try? await channel.close() }
    }

    func shutdown() async {
        await closeConnections()
        try? await channel.close()
    }

    private final class Box: Sendable {
        let state = Mutex<(accepted: Int, open: [any Channel])>((0, []))
        let barrier = Barrier()
    }
}

/// Requests held until a number of them wait together.
final class Barrier: Sendable {
    private let waiting = Mutex<[@Sendable () -> Void]>([])

    func arrive(expecting count: Int, _ release: @escaping @Sendable () -> Void) {
        let released: [@Sendable () -> Void] = waiting.withLock { waiting in
            waiting.append(release)
            guard waiting.count >= count else { return [] }
            defer { waiting = [] }
            return waiting
        }
        for release in released { release() }
    }
}

private final class Answer: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let connection: Int
    let barrier: Barrier
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(connection: Int, barrier: Barrier) {
        self.connection = connection
        self.barrier = barrier
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            answer(head, context: context)
        }
    }

    private func answer(_ request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(request.uri.split(separator: "?").first ?? "")
        switch path {
        case "/hang":
            return
        case "/barrier":
            let count = Int(request.uri.split(separator: "=").last ?? "") ?? 1
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            barrier.arrive(expecting: count) {
                loop.execute {
                    let (answer, context) = bound.value
                    answer.respond("ok", close: false, context: context)
                }
            }
        case "/chunked":
            var headers = HTTPHeaders()
            headers.add(name: "Transfer-Encoding", value: "chunked")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            for part in ["one,", "two,", "three"] {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: part)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        default:
            let text: String
            switch path {
            case "/big": text = String(repeating: "x", count: 100_000)
            case "/echo": text = "\(request.method.rawValue) \(request.uri) \(String(buffer: body))"
            case "/connection": text = "\(connection)"
            default: text = "ok"
            }
            respond(text, close: path == "/close", context: context)
        }
    }

    private func respond(_ text: String, close: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        if close { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if close { context.close(promise: nil) }
        }
    }
}
