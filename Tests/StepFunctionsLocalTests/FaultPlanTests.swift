import StepFunctionsLocal
import Testing

/// Which faults hit which request, without I/O.
@Suite struct FaultPlanTests {
    @Test func aFailureHitsCountRequestsThenStops() {
        var plan = FaultPlan()
        _ = plan.add(FaultRule(fault: .throttle, count: 2))
        #expect(plan.decide(for: "GetActivityTask").failure == .throttle)
        #expect(plan.decide(for: "SendTaskSuccess").failure == .throttle)
        #expect(plan.decide(for: "GetActivityTask") == .none)
        #expect(plan.entries.isEmpty)
    }

    @Test func aFailureDefaultsToOneRequest() {
        var plan = FaultPlan()
        _ = plan.add(FaultRule(fault: .dropConnection))
        #expect(plan.decide(for: "X").failure == .dropConnection(afterOperation: false))
        #expect(plan.decide(for: "X").failure == nil)
    }

    @Test func anOperationFilterLeavesOtherOperationsAlone() {
        var plan = FaultPlan()
        _ = plan.add(FaultRule(fault: .serverError, operation: "SendTaskHeartbeat", status: 503))
        #expect(plan.decide(for: "GetActivityTask").failure == nil)
        #expect(plan.decide(for: "SendTaskHeartbeat").failure == .serverError(status: 503, afterOperation: false))
        #expect(plan.decide(for: "SendTaskHeartbeat").failure == nil)
    }

    @Test func onlyTheFirstMatchingFailureApplies() {
        var plan = FaultPlan()
        _ = plan.add(FaultRule(fault: .throttle))
        _ = plan.add(FaultRule(fault: .serverError))
        #expect(plan.decide(for: "X").failure == .throttle)
        #expect(plan.decide(for: "X").failure == .serverError(status: 500, afterOperation: false))
        #expect(plan.decide(for: "X").failure == nil)
    }

    @Test func latencyIsUnlimitedByDefaultAndAddsUp() {
        var plan = FaultPlan()
        _ = plan.add(FaultRule(fault: .latency, latencyMs: 100))
        _ = plan.add(FaultRule(fault: .latency, count: 1, latencyMs: 50))
        _ = plan.add(FaultRule(fault: .throttle))
        let first = plan.decide(for: "X")
        #expect(first.latencyMilliseconds == 150)
        #expect(first.failure == .throttle)
        #expect(first.kinds == [.latency, .latency, .throttle])
        #expect(plan.decide(for: "X").latencyMilliseconds == 100)
        #expect(plan.decide(for: "X").latencyMilliseconds == 100)
    }

    @Test func problemsAreReported() {
        #expect(FaultRule(fault: .latency).problems == ["latency needs latencyMs from 0 to 600000"])
        #expect(FaultRule(fault: .throttle, count: 0).problems == ["count must be at least 1"])
        #expect(FaultRule(fault: .serverError, status: 404).problems == ["status must be 5xx"])
        #expect(FaultRule(fault: .serverError, status: 503).problems.isEmpty)
    }
}
