import Foundation
@testable import StepWorker
import StepWorkerTestKit
import Testing

/// A warm process's Runtime API listener, attacked by another local user (`nobody`, through
/// `setpriv`) as issue 32 found it: a client bound to `127.0.0.N:<listener port>` made the old
/// port-matching admission see the daemon's own accepted socket (uid 0) about one time in two,
/// and a connect-and-close loop read the whole `/proc/net/tcp` once per connection and wrote a
/// warning line each time.
@Suite(.timeLimit(.minutes(1)), .enabled(if: getuid() == 0, "runs the attacker as nobody: needs root"))
struct RuntimeAPIAttackTests {
    /// Connects `count` times to 127.0.0.1:`port`, each from `127.0.0.(2+i)` bound to the
    /// listener's own port (`mirror`) or from an ephemeral port, asks for `/next`, and prints
    /// `admitted` when any answer came, `refused` when the connection was closed unanswered.
    static let client = """
        import socket, sys
        port, count, mirror = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "mirror"
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if mirror:
                s.bind(("127.0.0.%d" % (2 + i), port))
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            try:
                s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                print("admitted" if s.recv(100) else "refused")
            except (ConnectionResetError, BrokenPipeError):
                print("refused")
            s.close()
        """

    /// Connects and closes `count` times as fast as it can; prints the rate.
    static let flood = """
        import socket, sys, time
        port, count = int(sys.argv[1]), int(sys.argv[2])
        start = time.monotonic()
        for i in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                pass
            s.close()
        print("%d connections in %.3f s" % (count, time.monotonic() - start))
        """

    /// Runs `script` with python3, as `nobody` when `asNobody`; returns its stdout lines. Waits
    /// for its exit without blocking a cooperative thread (the server under test needs them).
    static func python(_ script: String, _ arguments: [String], asNobody: Bool) async throws -> [String] {
        let process = Process()
        let command = ["/usr/bin/python3", "-c", script] + arguments
        if asNobody {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"] + command
        } else {
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
        }
        let directory = TemporaryDirectory()
        let outputPath = directory.write("stdout", "")
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let output = try String(contentsOfFile: outputPath, encoding: .utf8)
        return output.split(separator: "\n").map(String.init)
    }

    static func server(allowedUID: UInt32, log: RecordingLogHandlerStore) async throws -> RuntimeAPIServer {
        let server = try await RuntimeAPIServer.start(maxBodyBytes: 1024, allowedUID: allowedUID, logger: log.logger()) { _ in
            .json(200, #"{"task":"secret input"}"#)
        }
        server.processRunning(true)
        return server
    }

    @Test func anotherUserIsRefusedFromEveryMirroredSourceAddress() async throws {
        let log = RecordingLogHandlerStore()
        let server = try await Self.server(allowedUID: 0, log: log)
        let attacker = try await Self.python(Self.client, ["\(server.port)", "20", "mirror"], asNobody: true)
        #expect(attacker == Array(repeating: "refused", count: 20), "nobody must never be served by a root process's listener")
        let plain = try await Self.python(Self.client, ["\(server.port)", "3", "plain"], asNobody: true)
        #expect(plain == Array(repeating: "refused", count: 3))
        // The allowed user, the same way, is served.
        let owner = try await Self.python(Self.client, ["\(server.port)", "3", "mirror"], asNobody: false)
        #expect(owner == Array(repeating: "admitted", count: 3))
        await server.shutdown()
    }

    @Test func nothingIsAdmittedWhileNoProcessRuns() async throws {
        let log = RecordingLogHandlerStore()
        let server = try await Self.server(allowedUID: 0, log: log)
        server.processRunning(false)
        let owner = try await Self.python(Self.client, ["\(server.port)", "2", "plain"], asNobody: false)
        #expect(owner == ["refused", "refused"])
        await server.shutdown()
    }

    /// A connect-and-close loop by another user costs the daemon an accept, one lookup and a
    /// close per connection, and the log one line per ten seconds, not one per connection.
    @Test func aConnectionFloodIsLoggedAtABoundedRateAndTheOwnerIsStillServed() async throws {
        let log = RecordingLogHandlerStore()
        let server = try await Self.server(allowedUID: 0, log: log)
        let started = ContinuousClock.now
        let rate = try await Self.python(Self.flood, ["\(server.port)", "1000"], asNobody: true)
        let windows = Int((ContinuousClock.now - started) / .seconds(10)) + 1
        let refusals = log.all.filter { $0.message == "Refused a Runtime API connection" }
        #expect((1...windows).contains(refusals.count), "one line per 10 s window: \(refusals.count) lines in \(windows) windows")
        let counted = refusals.count + refusals.compactMap { Int($0.metadata["refused_since_last"] ?? "") }.reduce(0, +)
        #expect(counted <= 1000, "every refusal counted once: \(counted)")
        let owner = try await Self.python(Self.client, ["\(server.port)", "2", "plain"], asNobody: false)
        #expect(owner == ["admitted", "admitted"])
        // Once the flood has closed, no refused connection is left open.
        #expect(try await waitUntil(timeout: .seconds(5)) { server.openConnections == 0 })
        print("Runtime API connection flood as nobody: \(rate.joined())")
        await server.shutdown()
    }
}
