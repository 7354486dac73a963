import Prometheus
import Testing

@testable import StepWorker

/// What the event sites record, as Prometheus renders it: names, labels, zero-initialised
/// series and the handler duration's buckets in seconds.
@Suite(.timeLimit(.minutes(1)))
struct WorkerMetricsTests {
    let registry = PrometheusCollectorRegistry()

    func makeMetrics() -> WorkerMetrics {
        WorkerMetrics(factory: WorkerMetrics.prometheusFactory(registry: registry))
    }

    var exposition: [String] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func everySeriesOfAnActivityExistsAtZeroOnceItIsNamed() {
        let metrics = makeMetrics()
        _ = metrics.activity("resize")
        let lines = exposition
        for outcome in ["succeeded", "failed", "gone", "refused"] {
            #expect(lines.contains(#"stepworker_tasks_total{activity="resize",outcome="\#(outcome)"} 0"#), "\(lines)")
        }
        for result in ["task", "empty", "error"] {
            #expect(lines.contains(#"stepworker_polls_total{activity="resize",result="\#(result)"} 0"#))
        }
        for result in ["ok", "gone", "error"] {
            #expect(lines.contains(#"stepworker_heartbeats_total{activity="resize",result="\#(result)"} 0"#))
        }
        #expect(lines.contains(#"stepworker_result_retries_total{activity="resize"} 0"#))
        #expect(lines.contains(#"stepworker_tasks_running{activity="resize"} 0.0"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_count{activity="resize"} 0"#))
        #expect(lines.contains("stepworker_outbox_results 0.0"))
        #expect(lines.contains(#"stepworker_reloads_total{result="applied"} 0"#))
        #expect(lines.contains(#"stepworker_reloads_total{result="refused"} 0"#))
        #expect(lines.contains("# TYPE stepworker_tasks_total counter"))
        #expect(lines.contains("# TYPE stepworker_handler_duration_seconds histogram"))
        #expect(lines.contains("# TYPE stepworker_tasks_running gauge"))
    }

    @Test func eventsAreCountedPerActivity() {
        let metrics = makeMetrics()
        let resize = metrics.activity("resize"), other = metrics.activity("other")
        resize.finished(.succeeded)
        metrics.activity("resize").finished(.succeeded)  // the same series: created once per name
        resize.finished(.refused)
        other.finished(.gone)
        resize.polled(.task)
        resize.polled(.empty)
        resize.polled(.empty)
        resize.heartbeat(.ok)
        resize.heartbeat(.error)
        resize.resultRetried()
        resize.taskStarted()
        resize.taskStarted()
        resize.taskEnded()
        resize.capacity(4)
        metrics.deliveryStarted()
        metrics.deliveryStarted()
        metrics.deliveryEnded()
        metrics.reloaded(.applied)
        let lines = exposition
        #expect(lines.contains(#"stepworker_tasks_total{activity="resize",outcome="succeeded"} 2"#), "\(lines)")
        #expect(lines.contains(#"stepworker_tasks_total{activity="resize",outcome="refused"} 1"#))
        #expect(lines.contains(#"stepworker_tasks_total{activity="resize",outcome="gone"} 0"#))
        #expect(lines.contains(#"stepworker_tasks_total{activity="other",outcome="gone"} 1"#))
        #expect(lines.contains(#"stepworker_polls_total{activity="resize",result="empty"} 2"#))
        #expect(lines.contains(#"stepworker_polls_total{activity="resize",result="task"} 1"#))
        #expect(lines.contains(#"stepworker_heartbeats_total{activity="resize",result="ok"} 1"#))
        #expect(lines.contains(#"stepworker_heartbeats_total{activity="resize",result="error"} 1"#))
        #expect(lines.contains(#"stepworker_result_retries_total{activity="resize"} 1"#))
        #expect(lines.contains(#"stepworker_tasks_running{activity="resize"} 1.0"#))
        #expect(lines.contains(#"stepworker_activity_concurrency{activity="resize"} 4.0"#))
        #expect(lines.contains("stepworker_outbox_results 1.0"))
        #expect(lines.contains(#"stepworker_reloads_total{result="applied"} 1"#))
    }

    @Test func handlerDurationsAreBucketedInSeconds() {
        let resize = makeMetrics().activity("resize")
        resize.handlerRan(for: .milliseconds(30))
        resize.handlerRan(for: .seconds(90))
        let lines = exposition
        #expect(lines.contains(#"stepworker_handler_duration_seconds_bucket{activity="resize",le="0.01"} 0"#), "\(lines)")
        #expect(lines.contains(#"stepworker_handler_duration_seconds_bucket{activity="resize",le="0.05"} 1"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_bucket{activity="resize",le="60.0"} 1"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_bucket{activity="resize",le="120.0"} 2"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_bucket{activity="resize",le="3600.0"} 2"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_bucket{activity="resize",le="+Inf"} 2"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_sum{activity="resize"} 90.03"#))
        #expect(lines.contains(#"stepworker_handler_duration_seconds_count{activity="resize"} 2"#))
    }

    @Test func settlementsMapToTheOutcomeLabel() {
        #expect(WorkerMetrics.TaskOutcome(.reported(.success(output: "{}"))) == .succeeded)
        #expect(WorkerMetrics.TaskOutcome(.reported(.failing("Handler.Failed", "exit 1"))) == .failed)
        #expect(WorkerMetrics.TaskOutcome(.reported(.failing("Handler.InvalidOutput", "refused"))) == .failed)
        #expect(WorkerMetrics.TaskOutcome(.dropped(.failing("Handler.Failed", "exit 1"), reason: "refused")) == .failed)
        #expect(WorkerMetrics.TaskOutcome(.gone) == .gone)
    }
}
