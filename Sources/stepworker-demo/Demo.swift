import Foundation
import StepFunctions
import StepFunctionsLocal

/// `make demo`: starts `stepworker local-endpoint` and `stepworker run` with
/// etc/stepworker/demo.toml, submits tasks that succeed, fail with a structured error, time out
/// and exceed the output limit, waits for each, prints a table of outcomes, and stops both.
@main
struct Demo {
    static let credentials = AWSCredentials(accessKeyID: "AKIDLOCALDEMO", secretAccessKey: "local-demo-secret")

    struct Case {
        var title: String
        var activity: String
        var input: String
        var expected: String
    }

    static let cases = [
        Case(title: "echo succeeds", activity: "demo-echo", input: #"{"greeting":"hello"}"#, expected: "SUCCEEDED"),
        Case(title: "resize succeeds after 1.5 s of heartbeats", activity: "demo-resize", input: #"{"width":640,"sleep":1.5}"#, expected: "SUCCEEDED"),
        Case(title: "echo fails with a structured error", activity: "demo-echo", input: #"{"fail": true}"#, expected: "FAILED"),
        Case(title: "resize fails with a structured error", activity: "demo-resize", input: #"{"fail":true}"#, expected: "FAILED"),
        Case(title: "resize runs past its 2 s timeout", activity: "demo-resize", input: #"{"sleep":30}"#, expected: "FAILED"),
        Case(title: "resize prints more than 256 KiB", activity: "demo-resize", input: #"{"huge":300000}"#, expected: "FAILED"),
    ]

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
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = repository.appendingPathComponent("etc/stepworker/demo.toml").path
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("stepworker-demo-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: state) }

        step("starting stepworker local-endpoint (signatures checked, 2 s long polls)")
        let endpoint = try ChildProcess(executable: binary, arguments: [
            "local-endpoint", "--listen", "127.0.0.1:0", "--poll-seconds", "2",
            "--access-key", credentials.accessKeyID, "--secret-key", credentials.secretAccessKey,
            "--activity", "demo-echo", "--activity", "demo-resize",
        ])
        defer { endpoint.terminate() }
        guard let ready = endpoint.readLine(), let range = ready.range(of: "http://") else {
            throw DemoError("the local endpoint did not say where it listens")
        }
        let baseURL = String(ready[range.lowerBound...])
        step("local endpoint on \(baseURL)")

        step("starting stepworker run --config etc/stepworker/demo.toml")
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ENDPOINT_URL_SFN"] = baseURL
        environment["AWS_ACCESS_KEY_ID"] = credentials.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = credentials.secretAccessKey
        environment["STATE_DIRECTORY"] = state
        for name in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "NOTIFY_SOCKET", "JOURNAL_STREAM"] { environment[name] = nil }
        let worker = try ChildProcess(executable: binary, arguments: ["run", "--config", config], environment: environment, stderrToParent: true)
        defer { worker.terminate() }

        let http = StepFunctionsClient.makeHTTPClient()
        do {
            try await submitAndReport(baseURL: baseURL, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        step("stopping the worker (SIGTERM: it drains and exits)")
        let status = worker.terminate()
        step("worker exited with status \(status)")
        step("stopping the local endpoint")
    }

    static func submitAndReport(baseURL: String, http: HTTP1Client) async throws {
        let admin = LocalAdminClient(baseURL: baseURL, httpClient: http)
        let arn = { (name: String) in "arn:aws:states:us-east-1:123456789012:activity:\(name)" }
        var submitted: [(Case, String)] = []
        for demoCase in cases {
            let id = try await admin.submitTask(activityArn: arn(demoCase.activity), input: demoCase.input, heartbeatSeconds: 5, timeoutSeconds: 120)
            submitted.append((demoCase, id))
        }
        step("submitted \(submitted.count) tasks through the admin API; waiting for the worker")
        var rows: [[String]] = [["task", "case", "status", "error", "heartbeats", "output / cause"]]
        var unexpected = 0
        for (demoCase, id) in submitted {
            let state = try await admin.task(id, waitUpTo: .seconds(60))
            if state.status != demoCase.expected { unexpected += 1 }
            let detail = (state.output ?? state.cause ?? "").replacingOccurrences(of: "\n", with: " ")
            rows.append([id, demoCase.title, state.status, state.error ?? "", "\(state.heartbeatCount)", String(detail.prefix(60))])
        }
        say("")
        printTable(rows)
        say("")
        if unexpected > 0 { throw DemoError("\(unexpected) task(s) did not reach the expected status") }
    }

    static func printTable(_ rows: [[String]]) {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            say(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            if index == 0 { say(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
    }

    static func step(_ text: String) {
        say("demo: \(text)")
    }

    /// One line straight to stdout: unbuffered, so each step shows when it happens, in order
    /// with the worker's log lines, even through a pipe.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
