import FoundationEssentials
import POSIXSupport
import StepFunctions

/// What becomes of a task: DESIGN section 4's outcome table (docs/handlers.md), row by row, in
/// one pure function. Every way a task ends goes through here: its handler's run (whose result
/// carries why the worker stopped it, if it did), a task that arrived during drain, a task a
/// previous run left unfinished, and a result the service refused.
public enum TaskFate: Sendable, Equatable {
    /// Send this result: `SendTaskSuccess` or `SendTaskFailure`.
    case report(TaskResult)
    /// Report nothing: the service said the task is gone (its token is dead).
    case forget

    /// How much of a bad stdout is quoted in `Handler.InvalidOutput`'s cause.
    static let quotedStdoutCharacters = 1024

    /// The result to send, if any.
    public var result: TaskResult? {
        if case .report(let result) = self { return result }
        return nil
    }

    public static func decide(_ run: HandlerRunResult, activity: ActivityConfiguration) -> TaskFate {
        decide(run, rules: OutcomeRules(activity))
    }

    /// The fate of a task whose handler ran (or failed to start).
    public static func decide(_ run: HandlerRunResult, rules: OutcomeRules) -> TaskFate {
        let stderr = run.stderrTail
        switch run.termination {
        case .launchFailed(let reason):
            return .report(.failing(HandlerErrorName.launchFailed, reason))
        case .timedOut(let limit):
            return .report(.failing(
                HandlerErrorName.timeout,
                withStderr("ran past its timeout of \(DurationSyntax.render(limit)) and was stopped", stderr)))
        case .stopped(.taskGone):
            return .forget
        case .stopped(.shutdownGrace):
            return .report(WorkerFailure.shuttingDown("the worker stopped while the handler ran (shutdown_grace ran out)"))
        case .stopped(.cancelled):
            return .report(WorkerFailure.shuttingDown("the worker stopped the handler"))
        case .signalled(let signal):
            return .report(.failing(HandlerErrorName.killed, withStderr("killed by \(SignalNames.name(of: signal))", stderr)))
        case .functionError(let type):
            return .report(.failing(type.isEmpty ? HandlerErrorName.failed : type, functionErrorCause(run.stdout)))
        case .crashed(let how):
            return .report(.failing(HandlerErrorName.crashed, withStderr("the process \(describe(crash: how)) while it ran the task", stderr)))
        case .exited(let status):
            if run.stdoutOverflowed {
                return .report(.failing(
                    HandlerErrorName.outputTooLarge,
                    "stdout was \(run.stdoutBytes) bytes, more than max_output (\(rules.maxOutput) bytes)"))
            }
            return .report(status == 0 ? success(run.stdout, rules) : failure(status: status, run, rules))
        }
    }

    /// A task that arrived after draining began: failed at once so the state machine can retry
    /// it elsewhere.
    public static let arrivedDuringDrain = TaskFate.report(WorkerFailure.shuttingDown())

    /// A task a previous run received and never finished (it crashed or was killed).
    public static let interruptedByRestart = TaskFate.report(WorkerFailure.interrupted())

    /// What to send instead of `result` after the service refused it as invalid
    /// (`ResultDelivery.isRefusalOfTheResult`): a success whose output the service will not take
    /// becomes `Handler.InvalidOutput`, so the state machine learns why. A refused failure has
    /// no better form: nil, it is dropped (and logged).
    public static func afterRefusal(of result: TaskResult, reason: String) -> TaskResult? {
        switch result {
        case .success: return .failing(HandlerErrorName.invalidOutput, "the service refused the output: \(reason)")
        case .failure: return nil
        }
    }

    private static func success(_ stdout: [UInt8], _ rules: OutcomeRules) -> TaskResult {
        guard let text = String(validating: stdout, as: UTF8.self) else {
            return .failing(HandlerErrorName.invalidOutput, "stdout is not valid UTF-8")
        }
        switch rules.output {
        case .text:
            let output = JSONText.encode(text)
            guard output.utf8.count <= TaskLimits.maxPayloadBytes else {
                return .failing(
                    HandlerErrorName.outputTooLarge,
                    "stdout as a JSON string is \(output.utf8.count) bytes, more than the service's \(TaskLimits.maxPayloadBytes)")
            }
            return .success(output: output)
        case .json:
            let trimmed = String(text.trimmingWhitespace())
            if trimmed.isEmpty { return .success(output: "null") }
            if let problem = JSONText.validationError(Array(trimmed.utf8)) {
                let start = TaskLimits.truncating(trimmed, toCharacters: quotedStdoutCharacters)
                return .failing(HandlerErrorName.invalidOutput, "stdout is not JSON: \(problem); stdout starts with: \(start)")
            }
            return .success(output: trimmed)
        }
    }

    private static func failure(status: Int32, _ result: HandlerRunResult, _ rules: OutcomeRules) -> TaskResult {
        if let structured = structuredError(result.stdout) { return structured }
        let cause = withStderr("exit status \(status)", result.stderrTail)
        if let name = rules.exitCodes[status] { return .failing(name, cause) }
        return .failing(HandlerErrorName.failed, cause)
    }

    /// stdout as `{"error": "...", "cause": ...}`: the handler's own error.
    static func structuredError(_ stdout: [UInt8]) -> TaskResult? {
        guard !stdout.isEmpty, JSONText.validationError(stdout) == nil,
            case .object(let dictionary)? = JSONValue.parse(stdout), case .string(let error)? = dictionary["error"]
        else { return nil }
        return .failing(error, describe(dictionary["cause"]))
    }

    /// A `cause` of any JSON type as text: strings as they are, absent or null as empty,
    /// anything else as its JSON.
    static func describe(_ cause: JSONValue?) -> String {
        switch cause {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case let value?: return value.compactText
        }
    }

    /// A Lambda error body as the cause: the body's JSON as it came, or as a JSON string when it
    /// is not JSON.
    static func functionErrorCause(_ body: [UInt8]) -> String {
        let text = String(String(decoding: body, as: UTF8.self).trimmingWhitespace())
        if !text.isEmpty, JSONText.validationError(Array(text.utf8)) == nil { return text }
        return JSONText.encode(text)
    }

    static func describe(crash how: HandlerTermination) -> String {
        switch how {
        case .exited(let status): "exited with status \(status)"
        case .signalled(let signal): "was killed by \(SignalNames.name(of: signal))"
        default: "ended (\(how))"
        }
    }

    static func withStderr(_ summary: String, _ stderr: String) -> String {
        let tail = String(stderr.trimmingWhitespace())
        return tail.isEmpty ? summary : "\(summary); stderr:\n\(tail)"
    }
}
