import AsyncHTTPClient
import NIOHTTP1
import Foundation
import StepFunctions
import Testing

/// `aws` on PATH, if any.
let awsCLIPath: String? = ProcessInfo.processInfo.environment["PATH", default: ""]
    .split(separator: ":")
    .map { "\($0)/aws" }
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// The real AWS CLI against the real `stepworker local-endpoint` binary: proof that the protocol
/// and the signature check match what AWS's own tools do. Skipped when `aws` is not on PATH.
@Suite(.timeLimit(.minutes(2)), .enabled(if: awsCLIPath != nil, "the aws CLI is not on PATH"))
struct AWSCLITests {
    static var awsPath: String? { awsCLIPath }

    /// `stepworker`, next to the test bundle in the build directory.
    static var stepworkerPath: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("stepworker").path
    }

    let accessKey = "AKIDCLITEST"
    let secretKey = "cli/secret+KEY"

    /// The environment for `aws`: ours without any AWS settings, plus the given keys, with
    /// config files that do not exist.
    func environment(secret: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("stepworker-no-such-\(UUID().uuidString)").path
        environment["AWS_ACCESS_KEY_ID"] = accessKey
        environment["AWS_SECRET_ACCESS_KEY"] = secret
        environment["AWS_CONFIG_FILE"] = missing + "-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = missing + "-credentials"
        environment["AWS_EC2_METADATA_DISABLED"] = "true"
        environment["AWS_MAX_ATTEMPTS"] = "1"
        environment["AWS_PAGER"] = ""
        return environment
    }

    func aws(_ port: Int, secret: String, _ arguments: [String]) async throws -> ChildProcess.Result {
        try await ChildProcess.run(
            try #require(Self.awsPath),
            ["--endpoint-url", "http://127.0.0.1:\(port)", "--region", "us-east-1", "--output", "json", "stepfunctions"] + arguments,
            environment: environment(secret: secret), timeout: .seconds(60))
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func theAWSCLIDrivesATaskThroughTheBinary() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.stepworkerPath), "build stepworker first")
        let endpoint = try ChildProcess(
            Self.stepworkerPath,
            ["local-endpoint", "--listen", "127.0.0.1:0", "--access-key", accessKey, "--secret-key", secretKey, "--poll-seconds", "5",
             "--activity", "pre-made"])
        do {
            let line = try await endpoint.line(startingWith: "listening on ", timeout: .seconds(20))
            let port = try #require(Int(line.split(separator: ":").last ?? ""))
            #expect(line == "listening on http://127.0.0.1:\(port)")
            try await drive(port: port)
            endpoint.signal(SIGTERM)
            #expect(await endpoint.wait(timeout: .seconds(10)) == 0)
        } catch {
            endpoint.signal(SIGKILL)
            _ = await endpoint.wait()
            throw error
        }
    }

    private func drive(port: Int) async throws {
        let created = try await aws(port, secret: secretKey, ["create-activity", "--name", "x"])
        #expect(created.status == 0, "\(created.stderr)")
        let arn = try #require(Self.json(created.stdout)["activityArn"] as? String)
        #expect(arn == "arn:aws:states:us-east-1:123456789012:activity:x")

        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let id: String
        do {
            let admin = TestClient(http: http, port: port)
            id = try await admin.submit(arn, input: "{\"image\":\"cat.png\"}")
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }

        let polled = try await aws(port, secret: secretKey, ["get-activity-task", "--activity-arn", arn, "--worker-name", "cli"])
        #expect(polled.status == 0, "\(polled.stderr)")
        let task = Self.json(polled.stdout)
        let token = try #require(task["taskToken"] as? String)
        #expect(task["input"] as? String == "{\"image\":\"cat.png\"}")

        // `=`: a token may start with "-", which argparse would take for an option (1 run in 64).
        let sent = try await aws(port, secret: secretKey, ["send-task-success", "--task-token=\(token)", "--task-output", "{\"done\":true}"])
        #expect(sent.status == 0, "\(sent.stderr)")

        let http2 = HTTPClient(eventLoopGroupProvider: .singleton)
        let finished: TestClient.Reply
        do {
            finished = try await TestClient(http: http2, port: port).admin(.GET, "/_local/tasks/\(id)")
            try await http2.shutdown()
        } catch {
            try? await http2.shutdown()
            throw error
        }
        #expect(finished["status"] as? String == "SUCCEEDED")
        #expect(finished["output"] as? String == "{\"done\":true}")
        #expect(finished["workerName"] as? String == "cli")

        let listed = try await aws(port, secret: secretKey, ["list-activities"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let names = (Self.json(listed.stdout)["activities"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names == ["pre-made", "x"])

        let refused = try await aws(port, secret: "not-the-secret", ["list-activities"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("InvalidSignatureException"), "\(refused.stderr)")
    }
}
