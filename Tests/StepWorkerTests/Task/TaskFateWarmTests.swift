import StepFunctions
import StepWorker
import Testing

/// The rows a warm (`protocol = "lambda"`) handler adds to the outcome table.
@Suite("TaskFate: warm handler rows")
struct TaskFateWarmTests {
    let rules = OutcomeRules()

    @Test("an error body: error = its errorType, cause = the body as JSON")
    func functionError() {
        let body = #"{"errorMessage": "bad n", "errorType": "ValueError", "requestId": "r", "stackTrace": []}"#
        let run = HandlerRunResult(termination: .functionError(type: "ValueError"), stdout: Array(body.utf8))
        #expect(TaskFate.decide(run, rules: rules) == .report(.failure(error: "ValueError", cause: body)))
    }

    @Test("an error body with no errorType: Handler.Failed; a body that is not JSON: a JSON string")
    func functionErrorWithoutType() {
        let run = HandlerRunResult(termination: .functionError(type: ""), stdout: Array("oops".utf8))
        #expect(TaskFate.decide(run, rules: rules) == .report(.failure(error: "Handler.Failed", cause: #""oops""#)))
    }

    @Test("the process died mid-task: Handler.Crashed with the exit status and stderr tail")
    func crashed() {
        let exited = HandlerRunResult(termination: .crashed(.exited(3)), stderrTail: "Traceback\nboom\n")
        #expect(TaskFate.decide(exited, rules: rules) == .report(.failure(
            error: "Handler.Crashed", cause: "the process exited with status 3 while it ran the task; stderr:\nTraceback\nboom")))
        let killed = HandlerRunResult(termination: .crashed(.signalled(9)))
        #expect(TaskFate.decide(killed, rules: rules) == .report(.failure(
            error: "Handler.Crashed", cause: "the process was killed by SIGKILL while it ran the task")))
    }

    @Test("a response over max_output: Handler.OutputTooLarge, as for stdout")
    func responseTooLarge() {
        let small = OutcomeRules(maxOutput: 4)
        let run = HandlerRunResult(termination: .exited(0), stdout: Array("[1,2".utf8), stdoutBytes: 9)
        #expect(TaskFate.decide(run, rules: small).result == .failing(
            "Handler.OutputTooLarge", "stdout was 9 bytes, more than max_output (4 bytes)"))
    }
}
