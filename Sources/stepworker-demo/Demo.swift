import AsyncHTTPClient
import Foundation
import StepFunctions
import StepFunctionsLocal

/// `make demo`: starts `stepworker local-endpoint`, submits a task with the admin API, receives
/// it with the client, heartbeats, completes it, and reads it back as SUCCEEDED.
@main
struct Demo {
    static let credentials = AWSCredentials(accessKeyID: "AKIDLOCALDEMO", secretAccessKey: "local-demo-secret")

    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("demo failed: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let binary = URL(fileURLWithPath: ProcessInfo.processInfo.environment["STEPWORKER"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("stepworker").path)
        step("starting \(binary.lastPathComponent) local-endpoint (signatures checked)")
        let endpointProcess = try ChildProcess(executable: binary, arguments: [
            "local-endpoint", "--listen", "127.0.0.1:0",
            "--access-key", credentials.accessKeyID, "--secret-key", credentials.secretAccessKey,
        ])
        defer { endpointProcess.terminate() }
        guard let ready = endpointProcess.readLine(), let range = ready.range(of: "http://") else {
            throw DemoError("the local endpoint did not say where it listens")
        }
        let baseURL = String(ready[range.lowerBound...])
        step("local endpoint listening on \(baseURL)")

        let http = StepFunctionsClient.makeHTTPClient()
        do {
            try await converse(baseURL: baseURL, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        step("stopping the local endpoint")
    }

    static func converse(baseURL: String, http: HTTPClient) async throws {
        let endpoint = try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: baseURL), environment: [:])
        let client = StepFunctionsClient(
            configuration: .init(endpoint: endpoint), credentials: StaticCredentialProvider(credentials), httpClient: http)
        let admin = LocalAdminClient(baseURL: baseURL, httpClient: http)

        let arn = try await client.createActivity(name: "demo-greeter")
        step("CreateActivity -> \(arn)")
        let id = try await admin.submitTask(activityArn: arn, input: #"{"name":"operator"}"#, heartbeatSeconds: 30, timeoutSeconds: 300)
        step("admin: submitted task \(id) with input {\"name\":\"operator\"}")

        guard let task = try await client.getActivityTask(activityArn: arn, workerName: "demo-worker") else {
            throw DemoError("GetActivityTask returned no task")
        }
        step("GetActivityTask -> task \(task.token) (token of \(task.token.rawValue.count) characters), input \(task.input)")
        try await client.sendTaskHeartbeat(token: task.token)
        step("SendTaskHeartbeat -> ok")
        let name = (try JSONSerialization.jsonObject(with: Data(task.input.utf8)) as? [String: Any])?["name"] as? String ?? "world"
        let output = #"{"greeting":"hello, \#(name)"}"#
        try await client.sendTaskSuccess(token: task.token, output: output)
        step("SendTaskSuccess -> ok, output \(output)")

        let state = try await admin.task(id)
        step("admin: task \(id) is \(state.status), output \(state.output ?? "none"), heartbeats \(state.heartbeatCount), worker \(state.workerName ?? "?")")
        guard state.status == "SUCCEEDED" else { throw DemoError("expected SUCCEEDED, got \(state.status)") }
    }

    static func step(_ text: String) {
        print("demo: \(text)")
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
