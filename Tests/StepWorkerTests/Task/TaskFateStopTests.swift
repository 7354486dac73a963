import StepWorker
import Testing

/// The outcome table's rows about stops and refusals: why the worker stopped a handler decides
/// what is reported, and a result the service refused has one fallback.
@Suite(.timeLimit(.minutes(1)))
struct TaskFateStopTests {
    static func stopped(_ reason: HandlerStopReason) -> HandlerRunResult {
        // What the handler wrote before it was stopped must not matter.
        HandlerRunResult(termination: .stopped(reason), stdout: Array(#"{"partial":true}"#.utf8), stderrTail: "TERM received")
    }

    @Test func aTaskGoneIsForgotten() {
        #expect(TaskFate.decide(Self.stopped(.taskGone), rules: OutcomeRules()) == .forget)
        #expect(TaskFate.decide(Self.stopped(.taskGone), rules: OutcomeRules()).result == nil)
    }

    @Test func theShutdownGraceFailsTheTaskWithWorkerShuttingDown() {
        #expect(TaskFate.decide(Self.stopped(.shutdownGrace), rules: OutcomeRules()) == .report(.failure(
            error: WorkerFailure.shuttingDownName,
            cause: "the worker stopped while the handler ran (shutdown_grace ran out)")))
    }

    @Test func aCancelledRunFailsTheTaskWithWorkerShuttingDown() {
        #expect(TaskFate.decide(Self.stopped(.cancelled), rules: OutcomeRules()) == .report(.failure(
            error: WorkerFailure.shuttingDownName, cause: "the worker stopped the handler")))
    }

    @Test func aRefusedSuccessBecomesInvalidOutput() {
        let instead = TaskFate.afterRefusal(of: .success(output: #"{"a":1}"#), reason: "SendTaskSuccess: ValidationException: too big")
        #expect(instead == .failure(
            error: HandlerErrorName.invalidOutput,
            cause: "the service refused the output: SendTaskSuccess: ValidationException: too big"))
    }

    @Test func aRefusedFailureHasNoFallback() {
        #expect(TaskFate.afterRefusal(of: .failing("Handler.Failed", "exit status 1"), reason: "ValidationException") == nil)
    }

    @Test func aTaskArrivingDuringDrainFailsWithWorkerShuttingDown() {
        #expect(TaskFate.arrivedDuringDrain == .report(.failure(
            error: WorkerFailure.shuttingDownName, cause: "the worker is shutting down")))
    }

    @Test func aTaskLeftByACrashFailsWithWorkerInterrupted() {
        #expect(TaskFate.interruptedByRestart == .report(.failure(
            error: WorkerFailure.interruptedName, cause: "the worker restarted with this task unfinished")))
    }
}
