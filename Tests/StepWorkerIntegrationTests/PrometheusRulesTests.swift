import Foundation
import StepWorkerTestKit
import Testing

/// packaging/prometheus/stepworker.rules.yml under Debian's promtool: it loads, its unit tests
/// (stepworker.rules.test.yml) pass, every alert has a severity, a summary, a description, a
/// case in which it fires and a row in docs/metrics.md, and a broken rule fails the unit tests.
@Suite("Prometheus rules (promtool)", .timeLimit(.minutes(2)))
struct PrometheusRulesTests {
    /// The rule file's alerts, each with the lines of its block.
    static func alerts() throws -> [(name: String, lines: [String])] {
        var alerts: [(name: String, lines: [String])] = []
        var inAlert = false
        for line in try String(contentsOfFile: PrometheusTool.rules, encoding: .utf8).split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("- alert: ") {
                alerts.append((String(trimmed.dropFirst("- alert: ".count)), []))
                inAlert = true
            } else if trimmed.hasPrefix("- record: ") || trimmed.hasPrefix("- name: ") {
                inAlert = false
            } else if inAlert {
                alerts[alerts.count - 1].lines.append(trimmed)
            }
        }
        return alerts
    }

    @Test func promtoolChecksTheShippedRules() async throws {
        let promtool = try PrometheusTool.require("promtool")
        let text = try String(contentsOfFile: PrometheusTool.rules, encoding: .utf8)
        let count = text.split(separator: "\n").filter {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return line.hasPrefix("- record: ") || line.hasPrefix("- alert: ")
        }.count
        let (status, output) = try await PrometheusTool.run(promtool, ["check", "rules", PrometheusTool.rules])
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS: \(count) rules found"), "\(output)")
    }

    @Test func promtoolUnitTestsOfTheRulesPass() async throws {
        let promtool = try PrometheusTool.require("promtool")
        let (status, output) = try await PrometheusTool.run(promtool, ["test", "rules", PrometheusTool.rulesTest])
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS"), "\(output)")
    }

    /// The unit tests can fail: the same tests against a copy whose saturation threshold is
    /// lowered (so the 87.5%-busy activity of the test fires) must not pass.
    @Test func aLoosenedRuleFailsTheUnitTests() async throws {
        let promtool = try PrometheusTool.require("promtool")
        let directory = TemporaryDirectory()
        let original = try String(contentsOfFile: PrometheusTool.rules, encoding: .utf8)
        let threshold = "avg_over_time(instance_activity:stepworker_saturation:ratio[5m]) > 0.9"
        try #require(original.contains(threshold))
        directory.write("stepworker.rules.yml", original.replacingOccurrences(
            of: threshold, with: "avg_over_time(instance_activity:stepworker_saturation:ratio[5m]) > 0.8"))
        directory.write("stepworker.rules.test.yml", try String(contentsOfFile: PrometheusTool.rulesTest, encoding: .utf8))
        let (status, output) = try await PrometheusTool.run(promtool, ["test", "rules", directory.path + "/stepworker.rules.test.yml"])
        #expect(status != 0, "\(output)")
        #expect(output.contains("StepworkerActivitySaturated"), "\(output)")
    }

    @Test func everyAlertHasASeverityAnnotationsAFiringCaseAndDocs() throws {
        let alerts = try Self.alerts()
        #expect(alerts.count >= 10, "\(alerts.map(\.name))")
        let tests = try String(contentsOfFile: PrometheusTool.rulesTest, encoding: .utf8).split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let docs = try String(contentsOfFile: RepositoryPaths.root + "/docs/metrics.md", encoding: .utf8)
        for alert in alerts {
            let severity = alert.lines.first { $0.hasPrefix("severity: ") }.map { String($0.dropFirst("severity: ".count)) }
            #expect(["critical", "warning", "info"].contains(severity ?? ""), "\(alert.name): severity \(severity ?? "none")")
            #expect(alert.lines.contains { $0.hasPrefix("summary: ") }, "\(alert.name) has no summary")
            #expect(alert.lines.contains { $0.hasPrefix("description: ") }, "\(alert.name) has no description")
            // A firing case: `alertname: NAME` followed by `exp_alerts:` and an expected alert.
            let firing = tests.indices.contains { index in
                tests[index] == "alertname: \(alert.name)" && index + 2 < tests.count
                    && tests[index + 1] == "exp_alerts:" && tests[index + 2].hasPrefix("- exp_labels:")
            }
            #expect(firing, "\(alert.name) has no case in which it fires")
            // And the idle worker's case, where nothing fires.
            #expect(tests.contains("- {eval_time: 3h, alertname: \(alert.name), exp_alerts: []}"), "\(alert.name) is not checked on the idle worker")
            #expect(docs.contains("`\(alert.name)`"), "\(alert.name) is not in docs/metrics.md")
        }
    }
}
