import Glibc
import StepFunctionsLocal
import NIOHTTP1
import Foundation
import StepFunctions
import Testing

/// The client's transport, retries and error handling, against a scripted loopback server.
@Suite(.timeLimit(.minutes(1)))
struct StepFunctionsClientTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret-for-tests", sessionToken: "session-for-tests")
    static let arn = "arn:aws:states:us-east-1:123456789012:activity:resize"

    /// Runs `body` with a client pointed at a server scripted with `replies`.
    func withClient(
        _ replies: [ScriptedServer.Reply], retry: RetryPolicy = .standard, jitter: [Double] = [0.5],
        _ body: (StepFunctionsClient, ScriptedServer, RecordingClock) async throws -> Void
    ) async throws {
        let server = try await ScriptedServer.start(replies)
        let http = StepFunctionsClient.makeHTTPClient()
        let clock = RecordingClock()
        var configuration = StepFunctionsClient.Configuration(
            endpoint: try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: server.url), environment: [:]))
        configuration.retryPolicy = retry
        configuration.requestTimeout = .seconds(5)
        let client = StepFunctionsClient(
            configuration: configuration, credentials: StaticCredentialProvider(Self.credentials), httpClient: http,
            clock: clock, jitter: FixedJitter(jitter))
        do {
            try await body(client, server, clock)
        } catch {
            try? await http.shutdown()
            await server.server.shutdown()
            throw error
        }
        try await http.shutdown()
        await server.server.shutdown()
    }

    @Test func sendsAJSON10RequestSignedForStates() async throws {
        try await withClient([.ok(#"{"taskToken":"tok-1","input":"{\"a\":1}"}"#)]) { client, server, _ in
            let task = try await client.getActivityTask(activityArn: Self.arn, workerName: "host-1")
            #expect(task == ActivityTask(token: TaskToken("tok-1"), input: #"{"a":1}"#))
            let request = try #require(server.received.first)
            #expect(request.target == "AWSStepFunctions.GetActivityTask")
            #expect(request.headers.first(name: "Content-Type") == "application/x-amz-json-1.0")
            #expect(request.headers.first(name: "X-Amz-Security-Token") == "session-for-tests")
            let authorization = try #require(request.headers.first(name: "Authorization"))
            #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTEST/"))
            #expect(authorization.contains("/us-east-1/states/aws4_request"))
            #expect(request.json["activityArn"] as? String == Self.arn)
            #expect(request.json["workerName"] as? String == "host-1")
        }
    }

    @Test(arguments: [#"{}"#, #"{"taskToken":null}"#, #"{"taskToken":""}"#, ""])
    func anEmptyAbsentOrNullTokenMeansNoTask(body: String) async throws {
        try await withClient([.ok(body)]) { client, _, _ in
            let task = try await client.getActivityTask(activityArn: Self.arn, workerName: nil)
            #expect(task == nil)
        }
    }

    @Test func throttlingIsRetriedWithFullJitterThenSucceeds() async throws {
        let throttled = ScriptedServer.Reply.error(status: .badRequest, type: "ThrottlingException", message: "Rate exceeded")
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(10))
        try await withClient([throttled, throttled, throttled, .ok("{}")], retry: policy, jitter: [0.5, 0.25, 1.0]) { client, server, clock in
            try await client.sendTaskHeartbeat(token: TaskToken("tok"))
            #expect(server.received.count == 4)
            #expect(clock.sleeps == [.milliseconds(50), .milliseconds(50), .milliseconds(400)])
        }
    }

    /// A heartbeat with a deadline: each retry is put off at most half the time left, so all of
    /// them go before the deadline, where the policy alone would wait 1 s, 2 s, then 4 s.
    @Test func aThrottledHeartbeatIsRetriedBeforeItsDeadline() async throws {
        let throttled = ScriptedServer.Reply.error(status: .badRequest, type: "ThrottlingException", message: "Rate exceeded")
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), maxDelay: .seconds(10))
        try await withClient([throttled, throttled, throttled, .ok("{}")], retry: policy, jitter: [1.0]) { client, server, clock in
            try await client.sendTaskHeartbeat(token: TaskToken("tok"), within: .milliseconds(400))
            #expect(server.received.count == 4)
            #expect(clock.sleeps == [.milliseconds(200), .milliseconds(100), .milliseconds(50)])
        }
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetried() async throws {
        let unavailable = ScriptedServer.Reply.error(status: .serviceUnavailable, type: "ServiceUnavailable", message: "busy")
        try await withClient([unavailable, .drop, .ok("{}")], jitter: [0]) { client, server, clock in
            try await client.sendTaskSuccess(token: TaskToken("tok"), output: #"{"ok":true}"#)
            #expect(server.received.count == 3)
            #expect(clock.sleeps.count == 2)
        }
    }

    @Test func retriesStopAtTheLimitWithTheLastError() async throws {
        let unavailable = ScriptedServer.Reply.error(status: .internalServerError, type: "InternalFailure", message: "oops")
        try await withClient(Array(repeating: unavailable, count: 5), retry: RetryPolicy(maxAttempts: 3)) { client, server, _ in
            let error = try await #require(throws: StepFunctionsError.self) {
                try await client.sendTaskHeartbeat(token: TaskToken("tok"))
            }
            #expect(error.kind == .transient)
            #expect(error.code == "InternalFailure")
            #expect(error.statusCode == 500)
            #expect(server.received.count == 3)
        }
    }

    /// A result retried after a 5xx or a dropped connection may already have been taken: the
    /// "task gone" that follows says so, and a throttle (refused before any work) does not.
    @Test func aTaskGoneAfterAnAttemptThatMayHaveArrivedSaysSo() async throws {
        let gone = ScriptedServer.Reply.error(status: .badRequest, type: "TaskTimedOut", message: "finished")
        let unavailable = ScriptedServer.Reply.error(status: .serviceUnavailable, type: "ServiceUnavailable", message: "busy")
        let throttled = ScriptedServer.Reply.error(status: .badRequest, type: "ThrottlingException", message: "slow down")
        for (script, ambiguous) in [([ScriptedServer.Reply.drop, gone], true), ([unavailable, gone], true), ([throttled, gone], false), ([gone], false)] {
            try await withClient(script, jitter: [0]) { client, server, _ in
                let error = try await #require(throws: StepFunctionsError.self) {
                    try await client.sendTaskSuccess(token: TaskToken("tok"), output: "{}")
                }
                #expect(error.kind == .taskGone)
                #expect(error.afterAmbiguousAttempt == ambiguous, "\(script)")
                #expect(server.received.count == script.count)
            }
        }
    }

    @Test(arguments: [
        ("com.amazonaws.sfn#TaskTimedOut", StepFunctionsError.Kind.taskGone),
        ("InvalidToken", .taskGone),
        ("ValidationException", .invalidRequest),
        ("ActivityWorkerLimitExceeded", .workerLimit),
    ])
    func nonRetryableErrorsAreThrownAtOnceWithTheServiceMessage(type: String, kind: StepFunctionsError.Kind) async throws {
        try await withClient([.error(status: .badRequest, type: type, message: "the service says so")]) { client, server, clock in
            let error = try await #require(throws: StepFunctionsError.self) {
                try await client.sendTaskHeartbeat(token: TaskToken("tok"))
            }
            #expect(error.kind == kind)
            #expect(error.message == "the service says so")
            #expect(error.operation == "SendTaskHeartbeat")
            #expect(server.received.count == 1)
            #expect(clock.sleeps.isEmpty)
        }
    }

    @Test func pollsAreNotRetriedByTheClient() async throws {
        try await withClient([.error(status: .badRequest, type: "ThrottlingException", message: "slow down")]) { client, server, _ in
            let error = try await #require(throws: StepFunctionsError.self) {
                _ = try await client.getActivityTask(activityArn: Self.arn, workerName: nil)
            }
            #expect(error.kind == .throttled)
            #expect(server.received.count == 1)
        }
    }

    @Test func anOversizedOutputIsRefusedBeforeSending() async throws {
        try await withClient([]) { client, server, _ in
            let output = "\"" + String(repeating: "x", count: TaskLimits.maxPayloadBytes) + "\""
            let error = try await #require(throws: StepFunctionsError.self) {
                try await client.sendTaskSuccess(token: TaskToken("tok"), output: output)
            }
            #expect(error.kind == .invalidRequest)
            #expect(server.received.isEmpty)
        }
    }

    @Test func errorAndCauseAreCutToTheServiceLimitsOnCharacterBoundaries() async throws {
        try await withClient([.ok("{}")]) { client, server, _ in
            try await client.sendTaskFailure(
                token: TaskToken("tok"), error: String(repeating: "é", count: 300), cause: String(repeating: "😀", count: 40_000))
            let json = try #require(server.received.first).json
            #expect((json["error"] as? String)?.unicodeScalars.count == 256)
            #expect((json["cause"] as? String)?.unicodeScalars.count == 32_768)
            #expect(json["taskToken"] as? String == "tok")
        }
    }

    @Test func anEmptyAnswerIsReadAsSuchAndAnythingElseStillChecked() async throws {
        // `{}` with whitespace, and no body at all, are the empty answer; an HTML page from a
        // proxy is not, so a result it swallowed is not taken as delivered.
        try await withClient([.ok(" { \n} "), .ok(""), .ok("<html>proxy</html>")], retry: .none) { client, _, _ in
            try await client.sendTaskHeartbeat(token: TaskToken("tok"))
            try await client.sendTaskSuccess(token: TaskToken("tok"), output: "{}")
            let error = try await #require(throws: StepFunctionsError.self) {
                try await client.sendTaskSuccess(token: TaskToken("tok"), output: "{}")
            }
            #expect(error.code == "MalformedResponse")
            #expect(error.kind == .transient)
        }
    }

    @Test func aConnectionRefusedIsTransient() async throws {
        // A port bound but never listened on refuses connections, and stays this test's: a port
        // bound and closed could be taken by another test's server meanwhile (seen: HTTP 400).
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                try #require(bind(socket, raw, length) == 0)
                try #require(getsockname(socket, raw, &length) == 0)
            }
        }
        let url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let http = StepFunctionsClient.makeHTTPClient(connectTimeout: .seconds(5))  // refused at once; roomy for a busy machine
        var configuration = StepFunctionsClient.Configuration(
            endpoint: try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: url), environment: [:]))
        configuration.retryPolicy = RetryPolicy(maxAttempts: 2)
        let clock = RecordingClock()
        let client = StepFunctionsClient(
            configuration: configuration,
            credentials: StaticCredentialProvider(Self.credentials), httpClient: http, clock: clock,
            jitter: FixedJitter([0]))
        let error = try await #require(throws: StepFunctionsError.self) {
            try await client.sendTaskHeartbeat(token: TaskToken("tok"))
        }
        try await http.shutdown()
        #expect(error.kind == .transient)
        #expect(error.code == "ConnectionFailed")
        #expect(clock.sleeps.count == 1)
    }

    @Test func taskTokensNeverPrintWhole() {
        let token = TaskToken(String(repeating: "AAAAKgAAAAIAAAAAAAAAAR", count: 40))
        #expect(!"\(token)".contains("AAAAKgAAAAIAAAAAAAAAAR"))
        #expect(token.fingerprint.count == 16)
        #expect(token.fingerprint == TaskToken(token.rawValue).fingerprint)
        #expect(token.fingerprint != TaskToken(token.rawValue + "x").fingerprint)
        // The first 16 hex digits of SHA-256("abc"), as logs and handlers have always seen them.
        #expect(TaskToken("abc").fingerprint == "ba7816bf8f01cfea")
        #expect(TaskToken("abc") == TaskToken("abc"))
        #expect(Set([TaskToken("abc"), TaskToken("abc"), TaskToken("abd")]).count == 2)
    }
}
