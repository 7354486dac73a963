import Foundation
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

/// A real Prometheus (Debian's) scrapes `stepworker run` as built, against the local endpoint,
/// with the shipped rules loaded: the worker's series arrive with the right values, the recording
/// rules compute over them, every rule evaluates healthy, and the one alert the tasks earn
/// (a third of them fail) is pending.
@Suite("Prometheus scrapes stepworker run", .timeLimit(.minutes(3)))
struct PrometheusServerTests {
    typealias Harness = DaemonProcessTests.Harness

    /// A PromQL query whose answer must be one sample that `matches`.
    struct Expectation: Sendable {
        var query: String
        var wanted: String
        var matches: @Sendable (Double) -> Bool

        static func equals(_ query: String, _ value: Double) -> Self {
            Self(query: query, wanted: "\(value)") { $0 == value }
        }
        static func near(_ query: String, _ value: Double, within tolerance: Double = 0.01) -> Self {
            Self(query: query, wanted: "\(value) ± \(tolerance)") { abs($0 - value) <= tolerance }
        }
        static func atLeast(_ query: String, _ value: Double) -> Self {
            Self(query: query, wanted: ">= \(value)") { $0 >= value }
        }
    }

    /// What the server shows once the daemon ran two tasks that succeed and one that fails. A
    /// new series of the daemon is one more line here.
    static func expectations(instance: String) -> [Expectation] {
        let worker = #"job="stepworker",instance="\#(instance)""#
        let metered = worker + #",activity="metered""#
        return [
            .equals("up{\(worker)}", 1),
            .equals(#"stepworker_tasks_total{\#(metered),outcome="succeeded"}"#, 2),
            .equals(#"stepworker_tasks_total{\#(metered),outcome="failed"}"#, 1),
            .equals(#"stepworker_tasks_total{\#(metered),outcome="gone"}"#, 0),
            .equals(#"stepworker_polls_total{\#(metered),result="task"}"#, 3),
            .equals(#"stepworker_polls_total{\#(metered),result="error"}"#, 0),
            .equals("stepworker_handler_duration_seconds_count{\(metered)}", 3),
            .equals("stepworker_tasks_running{\(metered)}", 0),
            .equals("stepworker_activity_concurrency{\(metered)}", 2),
            .equals("stepworker_result_retries_total{\(metered)}", 0),
            .equals("stepworker_outbox_results{\(worker)}", 0),
            .equals(#"stepworker_reloads_total{\#(worker),result="refused"}"#, 0),
            // The shipped recording rules, over what was scraped.
            .near("instance_activity:stepworker_tasks_error_ratio:rate5m{\(metered)}", 1.0 / 3),
            .equals("instance_activity:stepworker_saturation:ratio{\(metered)}", 0),
            .atLeast("instance_activity:stepworker_polls:rate5m{\(metered)}", 0.001),
            // The client-side rate limiter's series: every attempt counted, never throttled here.
            .atLeast(#"stepworker_api_calls_total{\#(worker),api="GetActivityTask"}"#, 3),
            .atLeast(#"stepworker_api_calls_total{\#(worker),api="SendTaskSuccess"}"#, 2),
            .equals(#"stepworker_api_throttles_total{\#(worker),api="GetActivityTask"}"#, 0),
            .equals(#"stepworker_api_rate_limit{\#(worker),api="SendTaskHeartbeat"}"#, 0),
        ]
    }

    /// The one sample `query` answers, nil for none (or several).
    static func value(_ prometheus: PrometheusServer, _ query: String) async -> Double? {
        guard let samples = try? await prometheus.query(query), samples.count == 1 else { return nil }
        return samples[0].value
    }

    /// Starts the daemon with `[metrics]` on a free port (retrying if the port is taken before
    /// the daemon binds it), once it serves `/metrics`.
    static func startDaemon(_ h: Harness, arn: String, handler: String) async throws -> (Process, port: Int) {
        for _ in 0..<3 {
            let port = try await DaemonMetricsTests.freePort()
            let config = DaemonMetricsTests.configuration(h, arn: arn, handler: handler, port: port)
            let process = try h.start(config: config, notify: nil)
            let type = "# TYPE stepworker_tasks_total counter"
            if await DaemonMetricsTests.scrape(port: port, until: [type], timeout: .seconds(20)).contains(type) {
                return (process, port)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        throw DaemonDidNotServeMetrics(log: h.daemonLog)
    }

    struct DaemonDidNotServeMetrics: Error, CustomStringConvertible {
        var log: String
        var description: String { "the daemon never served /metrics: \(log)" }
    }

    @Test func aRealPrometheusScrapesTheDaemonAndEvaluatesTheShippedRules() async throws {
        _ = try PrometheusTool.require("prometheus")
        try await LocalSession.with(.init(credentials: DaemonProcessTests.credentials, pollDuration: .seconds(1))) { session in
            let h = Harness(server: session.server, admin: session.admin)
            let arn = try await h.admin.createActivity(name: "metered")
            // {"fail":…} exits 3 (a failure); anything else is echoed back (a success).
            let handler = h.directory.script(#"read input; case "$input" in *fail*) exit 3;; esac; echo "$input""#, name: "metered.sh")
            let (daemon, port) = try await Self.startDaemon(h, arn: arn, handler: handler)
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() } }
            let instance = "127.0.0.1:\(port)"
            let prometheus = try await PrometheusServer(targets: [instance], ruleFiles: [PrometheusTool.rules])
            defer { prometheus.stop() }

            // The counters' zeros are stored before the tasks, so rate() sees them move.
            let zero = #"stepworker_tasks_total{instance="\#(instance)",activity="metered",outcome="succeeded"}"#
            #expect(try await waitUntil(timeout: .seconds(30)) { await Self.value(prometheus, zero) == 0 }, "\(prometheus.log)")

            var ids: [String] = []
            for input in [#"{"n":1}"#, #"{"n":2}"#, #"{"fail":true}"#] {
                ids.append(try await h.admin.submitTask(activityArn: arn, input: input))
            }
            for id in ids { _ = try await h.admin.task(id, waitUpTo: .seconds(20)) }

            let expectations = Self.expectations(instance: instance)
            var last: [String: Double] = [:]
            let met = try await waitUntil(timeout: .seconds(60)) {
                var all = true
                for expectation in expectations {
                    let value = await Self.value(prometheus, expectation.query)
                    last[expectation.query] = value
                    if !(value.map(expectation.matches) ?? false) { all = false }
                }
                return all
            }
            for expectation in expectations where !(last[expectation.query].map(expectation.matches) ?? false) {
                Issue.record("\(expectation.query): wanted \(expectation.wanted), got \(last[expectation.query].map { "\($0)" } ?? "no single sample")")
            }
            #expect(met)

            // Every shipped rule is loaded from the file and evaluates without error (the API
            // lists the groups by name).
            let names = try Self.ruleNames()
            var groups: [PrometheusAPI.RulesAnswer.Group] = []
            let healthy = try await waitUntil(timeout: .seconds(30)) {
                groups = (try? await prometheus.get("/api/v1/rules", as: PrometheusAPI.RulesAnswer.self))?.data.groups ?? []
                let rules = groups.flatMap(\.rules)
                return rules.map(\.name).sorted() == names.sorted() && rules.allSatisfy { $0.health == "ok" }
            }
            let unhealthy = groups.flatMap(\.rules).filter { $0.health != "ok" }.map { "\($0.name): \($0.health) \($0.lastError ?? "")" }
            #expect(healthy, "not healthy: \(unhealthy); loaded: \(groups.flatMap(\.rules).map(\.name))")
            #expect(Set(groups.map(\.name)) == ["stepworker.records", "stepworker.alerts"])
            #expect(groups.allSatisfy { $0.file == PrometheusTool.rules }, "\(groups.map(\.file))")

            // A third of the tasks failed: StepworkerActivityFailing is pending (it wants 10
            // minutes); nothing fires.
            var alerts: [PrometheusAPI.AlertsAnswer.Alert] = []
            let pending = try await waitUntil(timeout: .seconds(30)) {
                alerts = (try? await prometheus.get("/api/v1/alerts", as: PrometheusAPI.AlertsAnswer.self))?.data.alerts ?? []
                return alerts.contains {
                    $0.labels["alertname"] == "StepworkerActivityFailing" && $0.labels["activity"] == "metered"
                        && $0.labels["instance"] == instance && $0.labels["severity"] == "warning" && $0.state == "pending"
                }
            }
            #expect(pending, "\(alerts)")
            #expect(!alerts.contains { $0.state == "firing" }, "\(alerts)")

            // Stopped, the target goes down.
            kill(daemon.processIdentifier, SIGTERM)
            #expect(await DaemonProcessTests().exitStatus(daemon) == 0, "\(h.daemonLog)")
            #expect(try await waitUntil(timeout: .seconds(20)) { await Self.value(prometheus, #"up{instance="\#(instance)"}"#) == 0 })
        }
    }

    /// The record and alert names of the shipped file, in its order.
    static func ruleNames() throws -> [String] {
        try String(contentsOfFile: PrometheusTool.rules, encoding: .utf8).split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            for prefix in ["- record: ", "- alert: "] where trimmed.hasPrefix(prefix) {
                return String(trimmed.dropFirst(prefix.count))
            }
            return nil
        }
    }
}
