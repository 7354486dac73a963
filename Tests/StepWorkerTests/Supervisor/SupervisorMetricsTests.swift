import Foundation
import StepWorkerTestKit
import StepFunctionsLocal
import Prometheus
import StepFunctions
import StepWorker
import Testing

/// The supervisor's own metrics events, in-process: concurrency kept current by a reload, reload
/// results, and a task refused during drain.
extension SupervisorReloadTests {
    static func exposition(_ registry: PrometheusCollectorRegistry) -> [String] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func metricsFollowReloadsAndCountATaskRefusedDuringDrain() async throws {
        try await withReloadHarness { h, file in
            let registry = PrometheusCollectorRegistry()
            let metrics = WorkerMetrics(factory: WorkerMetrics.prometheusFactory(registry: registry))
            let echo = try await activity(h, "echo", script: "cat")
            file.write([echo])
            let supervisor = try Supervisor(
                configuration: try file.load(), service: h.client, runner: SubprocessRunner(), notifier: h.notifier,
                clock: ContinuousClock(), watchdogTimeout: nil, daemonEnvironment: ["PATH": "/usr/bin:/bin"],
                statusInterval: .milliseconds(50), loadConfiguration: { try file.load() }, metrics: metrics,
                logger: h.log.logger())
            let running = Task { await supervisor.run() }
            #expect(await h.waitForNotification { $0 == "READY=1" })
            #expect(Self.exposition(registry).contains(#"stepworker_activity_concurrency{activity="echo"} 1.0"#))

            var wider = echo
            wider.extra = "concurrency = 3"
            file.write([wider])
            #expect(await reload(supervisor, h))
            var lines = Self.exposition(registry)
            #expect(lines.contains(#"stepworker_activity_concurrency{activity="echo"} 3.0"#), "\(lines)")
            #expect(lines.contains(#"stepworker_reloads_total{result="applied"} 1"#))

            var broken = echo
            broken.extra = "concurrency = \"lots\""
            file.write([broken])
            #expect(await reload(supervisor, h))
            lines = Self.exposition(registry)
            #expect(lines.contains(#"stepworker_reloads_total{result="refused"} 1"#), "\(lines)")
            #expect(lines.contains(#"stepworker_activity_concurrency{activity="echo"} 3.0"#))

            // Stop while polls are open: a task one of them brings is refused.
            #expect(try await waitUntil { (try await h.admin.stats().activities[echo.arn]?.openPolls ?? 0) >= 2 })
            supervisor.stop()
            let id = try await h.admin.submitTask(activityArn: echo.arn, input: "{}")
            #expect(try await h.admin.task(id, waitUpTo: .seconds(10)).error == "Worker.ShuttingDown")
            await running.value
            lines = Self.exposition(registry)
            #expect(lines.contains(#"stepworker_tasks_total{activity="echo",outcome="refused"} 1"#), "\(lines)")
            #expect(lines.contains(#"stepworker_tasks_total{activity="echo",outcome="succeeded"} 0"#))
            #expect(lines.contains(#"stepworker_tasks_running{activity="echo"} 0.0"#))
            #expect(lines.contains("stepworker_outbox_results 0.0"))
        }
    }
}
