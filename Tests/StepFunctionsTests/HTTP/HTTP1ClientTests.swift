import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import StepFunctions
import StepWorkerTestKit
import Testing

/// `HTTP1Client` against a real NIO server on loopback: connection reuse, every way an exchange
/// ends early, and TLS with a certificate authority the test makes with openssl.
@Suite(.timeLimit(.minutes(1)))
struct HTTP1ClientTests {
    func get(_ client: HTTP1Client, _ server: LoopbackHTTPServer, _ path: String, timeout: Duration = .seconds(5)) async throws -> String {
        let response = try await client.execute(
            HTTP1Request(method: .GET, url: "http://127.0.0.1:\(server.port)\(path)"), timeout: timeout)
        #expect(response.status == .ok)
        return String(buffer: response.body)
    }

    @Test func sequentialRequestsShareOneConnection() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        for _ in 0..<20 { #expect(try await get(client, server, "/connection") == "1") }
        #expect(server.accepted == 1)
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func concurrentRequestsOpenConnectionsOnlyAsNeeded() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        for _ in 0..<3 {
            try await withThrowingTaskGroup { group in
                for _ in 0..<16 { group.addTask { _ = try await get(client, server, "/barrier?n=16") } }
                try await group.waitForAll()
            }
        }
        // Each round's 16 connections come back to the pool and carry the next round.
        #expect(server.accepted == 16)
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func idleConnectionsBeyondTheLimitAreClosed() async throws {
        let server = try await LoopbackHTTPServer.start()
        var configuration = HTTP1Client.Configuration()
        configuration.maxIdleConnectionsPerOrigin = 2
        let client = HTTP1Client(configuration: configuration)
        for _ in 0..<2 {
            try await withThrowingTaskGroup { group in
                for _ in 0..<8 { group.addTask { _ = try await get(client, server, "/barrier?n=8") } }
                try await group.waitForAll()
            }
        }
        // Eight, then the two kept idle and six new ones.
        #expect(server.accepted == 14)
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func aConnectionInUseStaysOpenAndOneIdleForTheIdleTimeoutCloses() async throws {
        let server = try await LoopbackHTTPServer.start()
        var configuration = HTTP1Client.Configuration()
        configuration.idleTimeout = .seconds(1)
        let client = HTTP1Client(configuration: configuration)
        // Requests closer together than the timeout, over several timeouts: the idle clock
        // starts again at each one, so the first connection carries them all. A connection is
        // idle at most from one request's start to the next one's answer; a loaded machine can
        // stretch a 100 ms pause past the timeout, and each such stretch may rightly cost a
        // new connection.
        let clock = ContinuousClock()
        let start = clock.now
        var previousStart: ContinuousClock.Instant?
        var stretched = 0
        while clock.now - start < .seconds(3) {
            let requested = clock.now
            #expect(try await get(client, server, "/ok") == "ok")
            if let previousStart, clock.now - previousStart >= .seconds(1) { stretched += 1 }
            previousStart = requested
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(server.accepted <= 1 + stretched, "\(stretched) pauses of a second or more")
        // Then idle: closed once the timeout has passed since the last answer, not before (the
        // handler's clock starts as the answer ends, after the request went out).
        let lastRequest = clock.now
        _ = try await get(client, server, "/ok")
        #expect(client.idleConnectionCount == 1)
        #expect(try await waitUntil(timeout: .seconds(10)) { client.idleConnectionCount == 0 })
        #expect(clock.now - lastRequest >= .seconds(1))
        let before = server.accepted
        #expect(try await get(client, server, "/ok") == "ok")
        #expect(server.accepted == before + 1)
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func connectionCloseFromTheServerIsHonoured() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        #expect(try await get(client, server, "/close") == "ok")
        #expect(try await get(client, server, "/close") == "ok")
        #expect(try await get(client, server, "/connection") == "3")
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func aPooledConnectionTheServerClosedIsReplaced() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        for _ in 0..<5 {
            #expect(try await get(client, server, "/ok") == "ok")
            #expect(client.idleConnectionCount == 1)
            await server.closeConnections()
            // A close still on its way when a request goes out fails that request as
            // `connectionClosed` (the caller's retry policy takes it); once the client has seen
            // it, the pool holds nothing and the next request connects anew.
            #expect(try await waitUntil { client.idleConnectionCount == 0 })
        }
        #expect(server.accepted == 5)
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func chunkedAndLargeBodiesArriveWhole() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        #expect(try await get(client, server, "/chunked") == "one,two,three")
        #expect(try await get(client, server, "/big").utf8.count == 100_000)
        let echoed = try await client.execute(
            HTTP1Request(method: .POST, url: "http://127.0.0.1:\(server.port)/echo?a=1#fragment", body: ByteBuffer(string: "{\"k\":\"v\"}")),
            timeout: .seconds(5))
        #expect(String(buffer: echoed.body) == "POST /echo?a=1 {\"k\":\"v\"}")
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func anAnswerOverTheLimitFailsAndItsConnectionCloses() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        let error = try await #require(throws: HTTP1Error.self) {
            try await client.execute(HTTP1Request(method: .GET, url: "http://127.0.0.1:\(server.port)/big"), timeout: .seconds(5), maxResponseBytes: 1000)
        }
        #expect(error.kind == .responseTooLarge)
        #expect(try await get(client, server, "/connection") == "2")
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func aSilentServerTimesOutAndItsConnectionIsNotReused() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        // Connected first, so the short deadline below is spent waiting for the answer, not connecting.
        #expect(try await get(client, server, "/connection") == "1")
        let started = ContinuousClock.now
        let error = try await #require(throws: HTTP1Error.self) { try await get(client, server, "/hang", timeout: .milliseconds(200)) }
        #expect(error.kind == .timeout)
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(try await get(client, server, "/connection") == "2")
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func cancellingTheCallerEndsTheExchange() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        let call = Task { try await get(client, server, "/hang", timeout: .seconds(30)) }
        #expect(try await waitUntil { server.accepted == 1 })
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(try await get(client, server, "/connection") == "2")
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func aRefusedConnectionFailsAtOnce() async throws {
        let server = try await LoopbackHTTPServer.start()
        let port = server.port
        await server.shutdown()
        let client = HTTP1Client()
        let error = try await #require(throws: HTTP1Error.self) {
            try await client.execute(HTTP1Request(method: .GET, url: "http://127.0.0.1:\(port)/ok"), timeout: .seconds(5))
        }
        #expect(error.kind == .connectFailed)
        #expect(error.description.lowercased().contains("refused"))
        try await client.shutdown()
    }

    @Test func shutdownFailsExchangesInProgressAndLaterOnes() async throws {
        let server = try await LoopbackHTTPServer.start()
        let client = HTTP1Client()
        let call = Task { try await get(client, server, "/hang", timeout: .seconds(30)) }
        #expect(try await waitUntil { server.accepted == 1 })
        try await client.shutdown()
        let error = await #expect(throws: HTTP1Error.self) { try await call.value }
        #expect(error?.kind == .shutDown)
        let later = await #expect(throws: HTTP1Error.self) { try await get(client, server, "/ok") }
        #expect(later?.kind == .shutDown)
        await server.shutdown()
    }

    @Test func theHostHeaderNamesTheOrigin() throws {
        #expect(HTTP1Origin(tls: true, host: "states.us-east-1.amazonaws.com").hostHeader == "states.us-east-1.amazonaws.com")
        #expect(HTTP1Origin(tls: false, host: "127.0.0.1", port: 8080).hostHeader == "127.0.0.1:8080")
        #expect(HTTP1Origin(tls: false, host: "fd00:ec2::254").hostHeader == "[fd00:ec2::254]")
        #expect(throws: HTTP1Error.self) { try HTTP1Request(method: .GET, url: "ftp://example.com/") }
        #expect(try HTTP1Request(method: .GET, url: "http://[fd00:ec2::254]/latest/api/token").origin.host == "fd00:ec2::254")
        #expect(try HTTP1Request(method: .GET, url: "http://h:81").target == "/")
        #expect(try HTTP1Request(method: .GET, url: "http://h?x=1").target == "/?x=1")
    }

    // MARK: TLS

    @Test func tlsWithATrustedAuthorityChecksTheName() async throws {
        let pki = try await TestPKI()
        defer { pki.remove() }
        let server = try await LoopbackHTTPServer.start(tls: try pki.serverContext())
        var configuration = HTTP1Client.Configuration()
        configuration.caBundlePath = pki.caPath
        let client = HTTP1Client(configuration: configuration)
        for _ in 0..<3 {
            let response = try await client.execute(
                HTTP1Request(method: .GET, url: "https://localhost:\(server.port)/connection"), timeout: .seconds(10))
            #expect(String(buffer: response.body) == "1")
        }
        // The certificate names localhost only: the address is refused.
        let wrongName = try await #require(throws: HTTP1Error.self) {
            try await client.execute(HTTP1Request(method: .GET, url: "https://127.0.0.1:\(server.port)/ok"), timeout: .seconds(10))
        }
        #expect(wrongName.kind == .connectFailed, "\(wrongName)")
        try await client.shutdown()
        await server.shutdown()
    }

    @Test func aCABundleThatCannotBeReadIsNamedBeforeAnyCall() async throws {
        var configuration = HTTP1Client.Configuration()
        configuration.caBundlePath = "/nonexistent/stepworker-ca.pem"
        let client = HTTP1Client(configuration: configuration)
        let error = try #require(throws: HTTP1Error.self) { try client.prepareTLS() }
        #expect(error.kind == .connectFailed)
        #expect(error.description.contains("CA bundle /nonexistent/stepworker-ca.pem"))
        try await client.shutdown()
    }

    @Test func tlsWithAnUntrustedCertificateFails() async throws {
        let pki = try await TestPKI()
        defer { pki.remove() }
        let server = try await LoopbackHTTPServer.start(tls: try pki.serverContext())
        let client = HTTP1Client()  // the system's trust store, which does not hold the test's authority
        let error = try await #require(throws: HTTP1Error.self) {
            try await client.execute(HTTP1Request(method: .GET, url: "https://localhost:\(server.port)/ok"), timeout: .seconds(10))
        }
        #expect(error.kind == .connectFailed)
        #expect(error.description.contains("TLS"))
        try await client.shutdown()
        await server.shutdown()
    }
}

/// A certificate authority and a server certificate for `localhost`, made with openssl.
///
/// EC keys, and openssl awaited through its termination handler: RSA key generation blocked a
/// thread of the cooperative pool for about 0.3 s per key, and two such tests at once held both
/// threads of a 2-core machine, long enough for an unrelated test's 1 s IMDS deadline to pass.
struct TestPKI {
    let directory: String
    var caPath: String { directory + "/ca.pem" }

    init() async throws {
        directory = NSTemporaryDirectory() + "stepworker-pki-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let newKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 \(newKey) -keyout ca.key -out ca.pem -days 2 -subj /CN=stepworker-test-ca 2>/dev/null
            openssl req \(newKey) -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl failed (\(status))"])
        }
    }

    func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(directory + "/server.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory + "/server.key", format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
