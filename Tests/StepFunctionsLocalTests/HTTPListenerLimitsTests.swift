import HTTPServing
import NIOCore
import NIOHTTP1
import NIOPosix
import StepWorkerTestKit
import Synchronization
import Testing

/// What one client may hold of a listener (`HTTPListener.Limits`): a connection cap, checked
/// before anything else, and idle connections closed.
@Suite(.timeLimit(.minutes(1)))
struct HTTPListenerLimitsTests {
    /// Answers every request with 200 "ok"; `/slow` only once `release` is yielded to.
    final class Server: Sendable {
        final class Refusals: Sendable {
            let list = Mutex<[HTTPListener.Refusal]>([])
        }

        let listener: HTTPListener
        let refusals = Refusals()
        let release: AsyncStream<Void>.Continuation
        let released: AsyncStream<Void>

        init(limits: HTTPListener.Limits) async throws {
            (released, release) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .unbounded)
            let refusals = self.refusals
            let released = self.released
            listener = try await HTTPListener.bind(
                host: "127.0.0.1", port: 0, limits: limits, refused: { refusal, _ in refusals.list.withLock { $0.append(refusal) } }
            ) { connection in
                try? await connection.executeThenClose { inbound, outbound in
                    var uri = ""
                    for try await part in inbound {
                        switch part {
                        case .head(let head): uri = head.uri
                        case .body: continue
                        case .end:
                            if uri == "/slow" { for await _ in released { break } }
                            var headers = HTTPHeaders()
                            headers.add(name: "Content-Length", value: "2")
                            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: "ok"))))
                            try await outbound.write(.end(nil))
                        }
                    }
                }
            }
        }
    }

    /// A raw client: writes `text` (if any) and collects what comes back.
    final class Client: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex("")

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0 += String(buffer: buffer) }
        }

        static func connect(_ port: Int, sending text: String? = nil) async throws -> (any Channel, Client) {
            let client = Client()
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(client) } }
                .connect(host: "127.0.0.1", port: port).get()
            // A write can find the connection closed already (refused, or idle on a slow machine):
            // the caller's expectations say whether that was right.
            if let text { try? await channel.writeAndFlush(ByteBuffer(string: text)).get() }
            return (channel, client)
        }
    }

    static func closed(_ channel: any Channel, within timeout: Duration = .seconds(10)) async -> Bool {
        (try? await waitUntil(timeout: timeout) { !channel.isActive }) ?? false
    }

    @Test func aConnectionOverTheCapIsClosedAtOnceAndTheOthersAreServed() async throws {
        let server = try await Server(limits: .init(maxConnections: 2, idle: .none))
        let (first, _) = try await Client.connect(server.listener.port)
        let (second, secondClient) = try await Client.connect(server.listener.port)
        #expect(try await waitUntil { server.listener.openConnections == 2 })
        let (third, _) = try await Client.connect(server.listener.port)
        #expect(await Self.closed(third), "the third connection is closed unserved")
        #expect(server.refusals.list.withLock { $0 } == [.atCapacity(2)])
        #expect(first.isActive && second.isActive)
        try await second.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).get()
        #expect(try await waitUntil { secondClient.received.withLock { $0.hasSuffix("ok") } })
        try await first.close()
        #expect(try await waitUntil { server.listener.openConnections == 1 })
        let (fourth, fourthClient) = try await Client.connect(server.listener.port, sending: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await waitUntil { fourthClient.received.withLock { $0.hasSuffix("ok") } }, "a place freed is taken again")
        try await fourth.close()
        try await second.close()
        await server.listener.shutdown()
    }

    /// A silent client and one that trickles half a request head are closed; one whose request
    /// is still being answered is not, however long the answer takes; after its answer its own
    /// idle time starts.
    @Test func idleConnectionsAreClosedButNotOneWaitingForItsAnswer() async throws {
        let server = try await Server(limits: .init(maxConnections: 8, idle: .always(.seconds(2))))
        let (waiting, waitingClient) = try await Client.connect(server.listener.port, sending: "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let (silent, _) = try await Client.connect(server.listener.port)
        let (trickling, _) = try await Client.connect(server.listener.port, sending: "GET / HT")
        #expect(await Self.closed(silent))
        #expect(await Self.closed(trickling), "bytes that do not complete a request do not keep a connection")
        // Both were opened after `waiting`'s request, so its idle time would have run out too.
        #expect(waiting.isActive, "a request being answered is not idle")
        server.release.yield()
        #expect(try await waitUntil { waitingClient.received.withLock { $0.hasSuffix("ok") } })
        #expect(await Self.closed(waiting), "idle again after its answer")
        await server.listener.shutdown()
    }

    /// `.untilFirstRequest`: a client that has asked once may stay idle (a Lambda runtime while
    /// its handler runs); one that never asks is closed.
    @Test func afterItsFirstRequestAConnectionMayStayIdle() async throws {
        let server = try await Server(limits: .init(maxConnections: 8, idle: .untilFirstRequest(.seconds(2))))
        let (asked, askedClient) = try await Client.connect(server.listener.port, sending: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await waitUntil { askedClient.received.withLock { $0.hasSuffix("ok") } })
        let (silent, _) = try await Client.connect(server.listener.port)
        #expect(await Self.closed(silent))
        #expect(asked.isActive, "opened before the silent one, and idle since its answer, yet kept")
        try await asked.close()
        await server.listener.shutdown()
    }
}
