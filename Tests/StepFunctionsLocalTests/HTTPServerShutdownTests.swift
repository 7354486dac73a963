import NIOCore
import NIOHTTP1
import NIOPosix
import StepFunctionsLocal
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
