import AsyncHTTPClient
import Foundation
import NIOHTTP1
import StepFunctions
import Testing

/// The real `stepworker local-endpoint` binary, signatures checked (a stale date too), driven
/// through a task and its admin views. (The release binary links only FoundationEssentials,
/// where Calendar and TimeZone trap, as the signature check's date parsing once did; the debug
/// binary this test runs still loads full Foundation through its dynamic libraries, so the
/// static release binary is exercised by `make test-system`, which runs the same calls.)
@Suite(.timeLimit(.minutes(1)))
struct LocalEndpointBinaryTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDBINARY", secretAccessKey: "binary/secret+KEY")

    @Test func theBinaryChecksSignaturesAndReportsATaskItRan() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: AWSCLITests.stepworkerPath), "build stepworker first")
        let endpoint = try ChildProcess(
            AWSCLITests.stepworkerPath,
            ["local-endpoint", "--listen", "127.0.0.1:0", "--access-key", credentials.accessKeyID,
             "--secret-key", credentials.secretAccessKey, "--poll-seconds", "2"])
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let line = try await endpoint.line(startingWith: "listening on ", timeout: .seconds(20))
            let port = try #require(Int(line.split(separator: ":").last ?? ""))
            try await drive(TestClient(http: http, port: port, credentials: credentials))
            try await http.shutdown()
            endpoint.signal(SIGTERM)
            #expect(await endpoint.wait(timeout: .seconds(10)) == 0)
        } catch {
            try? await http.shutdown()
            endpoint.signal(SIGKILL)
            _ = await endpoint.wait()
            throw error
        }
    }

    private func drive(_ client: TestClient) async throws {
        let created = try await client.call("CreateActivity", ["name": "binary"])
        #expect(created.status == 200, "\(created.text)")
        let arn = try #require(created["activityArn"] as? String)
        let id = try await client.submit(arn, input: #"{"n":1}"#)
        let polled = try await client.call("GetActivityTask", ["activityArn": arn, "workerName": "binary-test"])
        let token = try #require(polled["taskToken"] as? String, "\(polled.text)")
        let sent = try await client.call("SendTaskSuccess", ["taskToken": token, "output": #"{"ok":true}"#])
        #expect(sent.status == 200, "\(sent.text)")

        let task = try await client.admin(.GET, "/_local/tasks/\(id)")
        #expect(task["status"] as? String == "SUCCEEDED", "\(task.text)")
        let finishedAt = try #require(task["finishedAt"] as? String, "\(task.text)")
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: finishedAt) != nil, "\(finishedAt)")

        var wrong = client
        wrong.credentials = AWSCredentials(accessKeyID: credentials.accessKeyID, secretAccessKey: "not-the-secret")
        let refused = try await wrong.call("ListActivities", [:])
        #expect(refused.errorType == "InvalidSignatureException", "\(refused.text)")
        let stale = try await client.call("ListActivities", [:], date: Date(timeIntervalSinceNow: -3600))
        #expect(stale.errorType == "InvalidSignatureException", "\(stale.text)")
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
