import HTTPServing
import NIOCore
import NIOHTTP1
import NIOPosix
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

/// Connections that arrive while a server shuts down: each is served or closed, and none is
/// dropped half made (NIOAsyncChannel traps when a connection it wrapped is never used: the
/// window swift-nio #3481 describes, which the old accept loop of all three servers had).
@Suite(.timeLimit(.minutes(2)))
struct HTTPServerShutdownTests {
    @Test func connectionsArrivingDuringShutdownAreClosedNotDropped() async throws {
        for round in 0..<40 {
            let server = try await HTTPServer.start { _ in .respond(HTTPServerResponse(status: .ok, contentType: "text/plain", body: Array("ok".utf8))) }
            let request = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            let clients = (0..<24).map { _ in
                ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: server.port)
                    .flatMap { channel in channel.writeAndFlush(request).map { channel } }
            }
            // Shut down while the rest are still connecting or being accepted.
            _ = try? await clients[round % clients.count].get()
            await server.shutdown()
            for client in clients {
                // A connection the server accepted is closed by it; one still in the backlog is
                // reset when the listener closes; either way the client's channel ends.
                guard let channel = try? await client.get() else { continue }
                try await channel.closeFuture.get()
            }
        }
    }
}

/// The options every accepted connection gets. `.socketOption(.tcp_nodelay)` once set SOL_SOCKET
/// option 1 (SO_DEBUG) instead of TCP_NODELAY: harmless as root, EACCES under the hardened unit.
@Suite(.timeLimit(.minutes(1)))
struct HTTPListenerOptionsTests {
    @Test func acceptedConnectionsHaveNoDelayAndNoSocketDebugging() async throws {
        let seen = AsyncStream<(noDelay: Int32, debug: Int32)>.makeStream()
        let listener = try await HTTPListener.bind(host: "127.0.0.1", port: 0) { connection in
            let noDelay = (try? await connection.channel.getOption(.tcpOption(.tcp_nodelay)).get()) ?? -1
            let debug = (try? await connection.channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).get()) ?? -1
            seen.continuation.yield((Int32(noDelay), Int32(debug)))
            try? await connection.executeThenClose { _, _ in }
        }
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: listener.port).get()
        let options = try #require(await seen.stream.first(where: { _ in true }, timeout: .seconds(10)))
        #expect(options.noDelay != 0)
        #expect(options.debug == 0)
        try? await client.close()
        await listener.shutdown()
    }
}
