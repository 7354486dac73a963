import Foundation
import StepFunctions

/// The rules of DESIGN section 4's outcome table that depend on an activity's configuration.
public struct OutcomeRules: Sendable, Equatable {
    public var output: OutputMode
    public var maxOutput: Int
    public var exitCodes: [Int32: String]

    public init(output: OutputMode = .json, maxOutput: Int = TaskLimits.maxPayloadBytes, exitCodes: [Int32: String] = [:]) {
        self.output = output
        self.maxOutput = maxOutput
        self.exitCodes = exitCodes
    }

    public init(_ activity: ActivityConfiguration) {
        self.init(output: activity.output, maxOutput: activity.maxOutput, exitCodes: activity.exitCodes)
    }
}

/// Maps a handler's run to the call the worker makes: DESIGN section 4's table, row by row, in
/// one pure function.
public enum HandlerOutcome {
    /// How much of a bad stdout is quoted in `Handler.InvalidOutput`'s cause.
    static let quotedStdoutCharacters = 1024

    public static func map(_ result: HandlerRunResult, activity: ActivityConfiguration) -> TaskResult {
        map(result, rules: OutcomeRules(activity))
    }

    public static func map(_ result: HandlerRunResult, rules: OutcomeRules) -> TaskResult {
        let stderr = result.stderrTail
        switch result.termination {
        case .launchFailed(let reason):
            return .failing(HandlerErrorName.launchFailed, reason)
        case .timedOut(let limit):
            return .failing(
                HandlerErrorName.timeout,
                withStderr("ran past its timeout of \(DurationSyntax.render(limit)) and was stopped", stderr))
        case .stopped:
            return WorkerFailure.shuttingDown("the worker stopped the handler")
        case .signalled(let signal):
            return .failing(HandlerErrorName.killed, withStderr("killed by \(SignalNames.name(of: signal))", stderr))
        case .exited(let status):
            if result.stdoutOverflowed {
                return .failing(
                    HandlerErrorName.outputTooLarge,
                    "stdout was \(result.stdoutBytes) bytes, more than max_output (\(rules.maxOutput) bytes)")
            }
            return status == 0 ? success(result.stdout, rules) : failure(status: status, result, rules)
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
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
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
            let object = try? JSONSerialization.jsonObject(with: Data(stdout), options: [.fragmentsAllowed]),
            let dictionary = object as? [String: Any], let error = dictionary["error"] as? String
        else { return nil }
        return .failing(error, describe(dictionary["cause"]))
    }

    /// A `cause` of any JSON type as text: strings as they are, absent or null as empty,
    /// anything else as its JSON.
    static func describe(_ cause: Any?) -> String {
        switch cause {
        case nil, is NSNull: return ""
        case let text as String: return text
        case let value?:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]),
                let text = String(data: data, encoding: .utf8)
            else { return "\(value)" }
            return text
        }
    }

    static func withStderr(_ summary: String, _ stderr: String) -> String {
        let tail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return tail.isEmpty ? summary : "\(summary); stderr:\n\(tail)"
    }
}
