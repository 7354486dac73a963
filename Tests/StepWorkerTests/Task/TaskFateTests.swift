import StepFunctions
import StepWorker
import Testing

/// DESIGN section 4's table, row by row, on the pure mapping.
@Suite("TaskFate: the outcome table")
struct TaskFateTests {
    let json = OutcomeRules()

    /// The result a run's fate reports (every row but "the task is gone" reports one).
    func map(_ run: HandlerRunResult, rules: OutcomeRules) -> TaskResult? {
        TaskFate.decide(run, rules: rules).result
    }

    func exited(_ status: Int32, stdout: String = "", stderr: String = "") -> HandlerRunResult {
        HandlerRunResult(termination: .exited(status), stdout: Array(stdout.utf8), stderrTail: stderr)
    }

    @Test("exit 0 with JSON: success with that JSON")
    func successJSON() {
        #expect(map(exited(0, stdout: " {\"a\": [1, 2.5e3, null]}\n"), rules: json) == .success(output: "{\"a\": [1, 2.5e3, null]}"))
        #expect(map(exited(0, stdout: "42"), rules: json) == .success(output: "42"))
        #expect(map(exited(0, stdout: "\"s\""), rules: json) == .success(output: "\"s\""))
    }

    @Test("exit 0 with empty stdout: null")
    func emptyIsNull() {
        #expect(map(exited(0), rules: json) == .success(output: "null"))
        #expect(map(exited(0, stdout: " \n"), rules: json) == .success(output: "null"))
    }

    @Test("output = text: stdout as a JSON string")
    func textMode() {
        let rules = OutcomeRules(output: .text)
        #expect(map(exited(0, stdout: "say \"hi\"\n\tbye\u{01}"), rules: rules)
            == .success(output: #""say \"hi\"\n\tbye\u0001""#))
        #expect(map(exited(0), rules: rules) == .success(output: "\"\""))
    }

    @Test("exit 0 with stdout that is not JSON: Handler.InvalidOutput with the parser's message and the start of stdout")
    func invalidOutput() {
        let result = map(exited(0, stdout: "{\"a\": 1,}"), rules: json)
        #expect(result == .failure(
            error: "Handler.InvalidOutput",
            cause: "stdout is not JSON: expected a string key at byte 8; stdout starts with: {\"a\": 1,}"))
        let long = String(repeating: "x", count: 5000)
        guard case .failure(_, let cause) = map(exited(0, stdout: long), rules: json) else {
            Issue.record("expected a failure")
            return
        }
        #expect(cause.hasSuffix(String(repeating: "x", count: 1024)))
        #expect(!cause.hasSuffix(String(repeating: "x", count: 1025)))
    }

    @Test("non-UTF-8 stdout is invalid output")
    func notUTF8() {
        let result = map(HandlerRunResult(termination: .exited(0), stdout: [0x22, 0xFF, 0x22]), rules: json)
        #expect(result == .failure(error: "Handler.InvalidOutput", cause: "stdout is not valid UTF-8"))
    }

    @Test("stdout over max_output: Handler.OutputTooLarge with the sizes")
    func outputTooLarge() {
        let result = HandlerRunResult(termination: .exited(0), stdout: Array(repeating: 0x20, count: 10), stdoutBytes: 11)
        #expect(map(result, rules: OutcomeRules(maxOutput: 10))
            == .failure(error: "Handler.OutputTooLarge", cause: "stdout was 11 bytes, more than max_output (10 bytes)"))
    }

    @Test("text output that grows past the service limit once escaped is too large")
    func textTooLargeOnceEscaped() {
        let stdout = String(repeating: "\"", count: TaskLimits.maxPayloadBytes / 2 + 1)
        guard case .failure(let error, _) = map(exited(0, stdout: stdout), rules: OutcomeRules(output: .text)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == "Handler.OutputTooLarge")
    }

    @Test("exit N with a JSON object holding a string error: that error and cause")
    func structuredError() {
        #expect(map(exited(3, stdout: #"{"error": "Resize.BadImage", "cause": "not a PNG"}"#), rules: json)
            == .failure(error: "Resize.BadImage", cause: "not a PNG"))
        #expect(map(exited(3, stdout: #"{"error": "E"}"#), rules: json) == .failure(error: "E", cause: ""))
        #expect(map(exited(3, stdout: #"{"error": "E", "cause": null}"#), rules: json) == .failure(error: "E", cause: ""))
        #expect(map(exited(3, stdout: #"{"error": "E", "cause": {"b": 2, "a": [1]}}"#), rules: json)
            == .failure(error: "E", cause: #"{"a":[1],"b":2}"#))
        #expect(map(exited(3, stdout: #"{"error": "E", "cause": 12}"#), rules: json) == .failure(error: "E", cause: "12"))
    }

    @Test("a structured error wins over exit_codes; a non-string error does not count")
    func structuredErrorPrecedence() {
        let rules = OutcomeRules(exitCodes: [3: "Mapped"])
        #expect(map(exited(3, stdout: #"{"error": "Own"}"#), rules: rules) == .failure(error: "Own", cause: ""))
        #expect(map(exited(3, stdout: #"{"error": 7}"#), rules: rules) == .failure(error: "Mapped", cause: "exit status 3"))
    }

    @Test("exit N listed in exit_codes: the mapped name, exit status and stderr tail")
    func mappedExitCode() {
        let rules = OutcomeRules(exitCodes: [75: "Resize.Retryable"])
        #expect(map(exited(75, stderr: "disk busy\n"), rules: rules)
            == .failure(error: "Resize.Retryable", cause: "exit status 75; stderr:\ndisk busy"))
    }

    @Test("exit N otherwise: Handler.Failed")
    func failed() {
        #expect(map(exited(2, stdout: "not json", stderr: "boom"), rules: OutcomeRules(exitCodes: [75: "X"]))
            == .failure(error: "Handler.Failed", cause: "exit status 2; stderr:\nboom"))
        #expect(map(exited(1), rules: json) == .failure(error: "Handler.Failed", cause: "exit status 1"))
    }

    @Test("killed by a signal the worker did not send: Handler.Killed with the signal's name")
    func killed() {
        let result = HandlerRunResult(termination: .signalled(11), stderrTail: "segfault here")
        #expect(map(result, rules: json) == .failure(error: "Handler.Killed", cause: "killed by SIGSEGV; stderr:\nsegfault here"))
        #expect(map(HandlerRunResult(termination: .signalled(9)), rules: json)
            == .failure(error: "Handler.Killed", cause: "killed by SIGKILL"))
    }

    @Test("ran past timeout: Handler.Timeout with the limit")
    func timeout() {
        let result = HandlerRunResult(termination: .timedOut(limit: .seconds(900)), stdout: Array("{}".utf8), stderrTail: "working")
        #expect(map(result, rules: json)
            == .failure(error: "Handler.Timeout", cause: "ran past its timeout of 15m and was stopped; stderr:\nworking"))
    }

    @Test("could not start: Handler.LaunchFailed with the errno text")
    func launchFailed() {
        #expect(map(HandlerRunResult(termination: .launchFailed("Permission denied")), rules: json)
            == .failure(error: "Handler.LaunchFailed", cause: "Permission denied"))
    }

    @Test("stopped by the worker: Worker.ShuttingDown; the worker's own failures")
    func workerFailures() {
        #expect(map(HandlerRunResult(termination: .stopped(.cancelled)), rules: json)
            == .failure(error: "Worker.ShuttingDown", cause: "the worker stopped the handler"))
        #expect(map(HandlerRunResult(termination: .stopped(.shutdownGrace)), rules: json)
            == .failure(error: "Worker.ShuttingDown", cause: "the worker stopped while the handler ran (shutdown_grace ran out)"))
        #expect(TaskFate.decide(HandlerRunResult(termination: .stopped(.taskGone)), rules: json) == .forget)
        #expect(WorkerFailure.shuttingDown() == .failure(error: "Worker.ShuttingDown", cause: "the worker is shutting down"))
        #expect(WorkerFailure.interrupted() == .failure(error: "Worker.Interrupted", cause: "the worker restarted with this task unfinished"))
    }

    @Test("error is cut to 256 and cause to 32,768 characters without splitting a character")
    func truncation() {
        let error = String(repeating: "é", count: 300)
        let cause = String(repeating: "🙂", count: 40_000)
        let stdout = "{\"error\": \"\(error)\", \"cause\": \"\(cause)\"}"
        guard case .failure(let cutError, let cutCause) = map(exited(1, stdout: stdout), rules: json) else {
            Issue.record("expected a failure")
            return
        }
        #expect(cutError == String(repeating: "é", count: 256))
        #expect(cutCause == String(repeating: "🙂", count: 32_768))
    }
}

@Suite("JSONText")
struct JSONTextTests {
    @Test(arguments: ["null", "true", " 0 ", "-1.5E+3", #""a\u00e9\n""#, "[]", "{}", #"{"a":{"b":[1,{}]}}"#, "[1, 2]"])
    func valid(_ text: String) {
        #expect(JSONText.validationError(Array(text.utf8)) == nil)
    }

    @Test(arguments: ["", "nul", "01", "1.", "[1,]", "{\"a\"}", "{a:1}", "\"\u{01}\"", "\"\\x\"", "1 2", "[", "'a'", "NaN"])
    func invalid(_ text: String) {
        #expect(JSONText.validationError(Array(text.utf8)) != nil)
    }
}
