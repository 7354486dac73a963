import Foundation
import Logging
import Prometheus
import StepFunctions
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit
import Testing

/// `[metrics] listen` with the built binary: tasks run, then `GET /metrics` over loopback shows
/// them; a port already taken stops the start with exit 1.
@Suite("stepworker run: metrics", .timeLimit(.minutes(1)))
struct DaemonMetricsTests {
    typealias Harness = DaemonProcessTests.Harness

    /// A port free a moment ago: bound to port 0, then released.
    static func freePort() async throws -> Int {
        let probe = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        await probe.shutdown()
        return probe.port
    }

    static func configuration(_ h: Harness, arn: String, handler: String, port: Int) -> String {
        h.directory.write("stepworker.toml", """
            [aws]
            region = "us-east-1"
            endpoint = "\(h.server.baseURL)"
            [worker]
            state_directory = "\(h.directory.path)/state"
            shutdown_grace = "5s"
            [metrics]
            listen = "127.0.0.1:\(port)"
            [[activity]]
            arn = "\(arn)"
            name = "metered"
            command = ["\(handler)"]
            concurrency = 2
            """)
    }

    /// Scrapes until every line in `expected` is there (the counters move just after the service
    /// saw the result); returns the last scrape's lines.
    static func scrape(port: Int, until expected: [String], timeout: Duration = .seconds(10)) async -> [String] {
        var lines: [String] = []
        _ = try? await waitUntil(timeout: timeout) {
            guard let scrape = try? await HTTPScrape.request("http://127.0.0.1:\(port)/metrics") else { return false }
            lines = scrape.body.split(separator: "\n").map(String.init)
            return expected.allSatisfy(lines.contains)
        }
        return lines
    }

    func exitStatus(_ process: Process) async -> Int32? {
        await DaemonProcessTests().exitStatus(process)
    }

    @Test func tasksShowUpInGetMetricsAndTheListenerClosesAtStop() async throws {
        try await LocalSession.with(.init(credentials: DaemonProcessTests.credentials, pollDuration: .seconds(1))) { session in
            let h = Harness(server: session.server, admin: session.admin)
            let arn = try await h.admin.createActivity(name: "metered")
            // {"fail":…} exits 3 (a failure); anything else is echoed back (a success).
            let handler = h.directory.script(#"read input; case "$input" in *fail*) exit 3;; esac; echo "$input""#, name: "metered.sh")
            var process: Process?
            var port = 0
            for _ in 0..<3 {  // the free port may be taken again before the daemon binds it: retry
                port = try await Self.freePort()
                let started = try h.start(config: Self.configuration(h, arn: arn, handler: handler, port: port), notify: nil)
                if await Self.scrape(port: port, until: ["# TYPE stepworker_tasks_total counter"], timeout: .seconds(10))
                    .contains("# TYPE stepworker_tasks_total counter")
                {
                    process = started
                    break
                }
                started.terminate()
                _ = await exitStatus(started)
            }
            guard let process else {
                Issue.record("the daemon never served /metrics: \(h.daemonLog)")
                return
            }

            var ids: [String] = []
            for input in [#"{"n":1}"#, #"{"n":2}"#, #"{"fail":true}"#] {
                ids.append(try await h.admin.submitTask(activityArn: arn, input: input))
            }
            for id in ids { _ = try await h.admin.task(id, waitUpTo: .seconds(20)) }
            let expected = [
                #"stepworker_tasks_total{activity="metered",outcome="succeeded"} 2"#,
                #"stepworker_tasks_total{activity="metered",outcome="failed"} 1"#,
                #"stepworker_tasks_total{activity="metered",outcome="gone"} 0"#,
                #"stepworker_tasks_total{activity="metered",outcome="refused"} 0"#,
                #"stepworker_polls_total{activity="metered",result="task"} 3"#,
                #"stepworker_polls_total{activity="metered",result="error"} 0"#,
                #"stepworker_handler_duration_seconds_count{activity="metered"} 3"#,
                #"stepworker_tasks_running{activity="metered"} 0.0"#,
                #"stepworker_activity_concurrency{activity="metered"} 2.0"#,
                #"stepworker_result_retries_total{activity="metered"} 0"#,
                "stepworker_outbox_results 0.0",
                #"stepworker_reloads_total{result="applied"} 0"#,
                "# TYPE stepworker_handler_duration_seconds histogram",
            ]
            let lines = await Self.scrape(port: port, until: expected)
            for line in expected {
                #expect(lines.contains(line), "\(line) missing from:\n\(lines.joined(separator: "\n"))")
            }
            #expect(!lines.contains { $0.contains("AKID") || $0.contains(ids[0]) })
            #expect(try await HTTPScrape.request("http://127.0.0.1:\(port)/other").status == 404)

            kill(process.processIdentifier, SIGTERM)
            #expect(await exitStatus(process) == 0, "\(h.daemonLog)")
            await #expect(throws: (any Error).self) { _ = try await HTTPScrape.request("http://127.0.0.1:\(port)/metrics", timeout: .seconds(1)) }
        }
    }

    @Test func aTakenPortStopsTheStartWithExit1NamingMetricsListen() async throws {
        let taken = try await MetricsServer.start(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        let directory = TemporaryDirectory()
        let handler = directory.script("cat")
        let file = directory.write("taken.toml", """
            [aws]
            region = "us-east-1"
            endpoint = "http://127.0.0.1:9"
            [worker]
            state_directory = "\(directory.path)/state"
            [metrics]
            listen = "127.0.0.1:\(taken.port)"
            [[activity]]
            arn = "arn:aws:states:us-east-1:123456789012:activity:a"
            command = ["\(handler)"]
            """)
        let (status, output) = try DaemonProcessTests.runUntilExit(config: file, environment: [
            "PATH": "/usr/bin:/bin", "HOME": directory.path, "AWS_ACCESS_KEY_ID": "AKIDTAKEN", "AWS_SECRET_ACCESS_KEY": "taken",
        ])
        await taken.shutdown()
        #expect(status == 1, "\(output)")
        #expect(output.contains("Cannot start"), "\(output)")
        #expect(output.contains("metrics.listen: cannot listen on 127.0.0.1:\(taken.port)"), "\(output)")
    }
}
