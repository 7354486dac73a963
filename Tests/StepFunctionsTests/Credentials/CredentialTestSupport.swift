import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StepFunctionsLocal
import Synchronization
@testable import StepFunctions

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }
    var function: @Sendable () -> Date { { self.now } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A log handler that keeps every line (message, metadata, error) for tests to read.
struct RecordingLogHandler: LogHandler {
    final class Buffer: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
        var text: String { all.joined(separator: "\n") }
    }

    let buffer: Buffer
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var line = "\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"
        if let error = event.error { line += " error=\(error)" }
        buffer.append(line)
    }

    /// A trace-level logger writing into a new buffer.
    static func logger() -> (Logger, Buffer) {
        let buffer = Buffer()
        var logger = Logger(label: "test.credentials") { _ in RecordingLogHandler(buffer: buffer) }
        logger.logLevel = .trace
        return (logger, buffer)
    }
}

/// A loopback stand-in (IMDS, container endpoint, STS) that records every request it answers.
final class StandIn: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: HTTPHeaders
        var body: String

        func header(_ name: String) -> String? { headers.first(name: name) }

        /// The body as form parameters, percent-decoded.
        var form: [String: String] {
            var result: [String: String] = [:]
            for pair in body.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (text: Substring) in text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text) }
                result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
            }
            return result
        }
    }

    let server: HTTPServer
    private let recorder: Recorder

    private final class Recorder: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private init(server: HTTPServer, recorder: Recorder) {
        self.server = server
        self.recorder = recorder
    }

    var baseURL: String { server.baseURL }
    var requests: [Request] { recorder.requests.withLock { $0 } }
    func requests(to path: String) -> [Request] { requests.filter { $0.uri == path } }

    static func start(_ respond: @escaping @Sendable (Request) async -> HTTPServerReply) async throws -> StandIn {
        let recorder = Recorder()
        let server = try await HTTPServer.start(host: "127.0.0.1", port: 0) { request in
            let recorded = Request(
                method: request.method.rawValue, uri: request.uri, headers: request.headers,
                body: String(decoding: request.bodyBytes, as: UTF8.self))
            recorder.requests.withLock { $0.append(recorded) }
            return await respond(recorded)
        }
        return StandIn(server: server, recorder: recorder)
    }

    func shutdown() async { await server.shutdown() }
}

extension HTTPServerReply {
    static func text(_ text: String, status: HTTPResponseStatus = .ok) -> HTTPServerReply {
        .respond(HTTPServerResponse(status: status, contentType: "text/plain", body: Array(text.utf8)))
    }

    static func status(_ status: HTTPResponseStatus) -> HTTPServerReply {
        .respond(HTTPServerResponse(status: status))
    }
}

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "stepworker-creds-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The deadline for calls to a stand-in that answers: these tests are about the requests made,
/// and the whole suite on a 2-core machine can hold a call up longer than the production
/// deadlines (IMDS 1 s, container 2 s).
let standInTimeout: Duration = .seconds(5)

/// Runs `body` with a fresh HTTP client, shut down afterwards.
func withHTTPClient<T>(_ body: (HTTP1Client) async throws -> T) async throws -> T {
    let client = HTTP1Client()
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Secrets the tests hand out; the secret-scan test looks for them in logs and errors.
enum TestSecrets {
    static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1"
    static let sessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKENsecretvalue2"

    static func imdsDocument(keyID: String = "ASIAIMDS", expiration: String) -> String {
        #"{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"\#(keyID)","SecretAccessKey":"\#(secretKey)","Token":"\#(sessionToken)","Expiration":"\#(expiration)"}"#
    }

    static func stsAnswer(operation: String, keyID: String = "ASIASTS", expiration: String) -> String {
        """
        <\(operation)Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <\(operation)Result>
            <Credentials>
              <AccessKeyId>\(keyID)</AccessKeyId>
              <SecretAccessKey>\(secretKey)</SecretAccessKey>
              <SessionToken>\(sessionToken)</SessionToken>
              <Expiration>\(expiration)</Expiration>
            </Credentials>
          </\(operation)Result>
          <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
        </\(operation)Response>
        """
    }
}

/// ISO 8601 text for `date` (whole seconds, UTC).
func iso8601(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

/// A door requests wait at until a test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A loopback port nothing listens on (a server bound it, then stopped).
func closedPort() async throws -> Int {
    let server = try await HTTPServer.start(host: "127.0.0.1", port: 0) { _ in .dropConnection }
    let port = server.port
    await server.shutdown()
    return port
}

/// A value shared between a test and its stand-ins.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
