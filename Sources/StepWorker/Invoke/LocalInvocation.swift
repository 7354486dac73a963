public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `stepworker invoke`: one task through the same runner and outcome mapping as the daemon,
/// with no AWS.
public struct LocalInvocation: Sendable {
    public var configuration: Configuration
    public var runner: any ProcessRunner
    public var daemonEnvironment: [String: String]

    /// - Parameters:
    ///   - runner: by default the daemon's: one process per task for `stdio` activities, one warm
    ///     process (started for this task, stopped after it) for `lambda` ones.
    public init(
        configuration: Configuration, runner: (any ProcessRunner)? = nil,
        daemonEnvironment: [String: String] = ProcessEnvironment.current(),
        logger: Logger = Logger(label: "stepworker.invoke")
    ) {
        self.configuration = configuration
        self.runner = runner ?? LambdaRunner(
            workerName: configuration.worker.name, daemonEnvironment: daemonEnvironment, logger: logger)
        self.daemonEnvironment = daemonEnvironment
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownActivity(String, known: [String])

        public var description: String {
            switch self {
            case .unknownActivity(let name, let known):
                "no activity named \"\(name)\" (configured: \(known.joined(separator: ", ")))"
            }
        }
    }

    /// Runs activity `name`'s handler on `input` and maps its outcome.
    public func run(activity name: String, input: [UInt8], logger: Logger) async throws(Failure) -> TaskResult {
        guard let activity = configuration.activity(named: name) else {
            throw .unknownActivity(name, known: configuration.activities.map(\.name))
        }
        let invocation = HandlerInvocation(
            activity: activity, workerName: configuration.worker.name, taskID: "invoke", input: input,
            logger: logger, daemonEnvironment: daemonEnvironment, unixTime: Self.unixTime())
        let run = await runner.run(invocation)
        await runner.retire(activity)  // a warm process started for this one task stops now
        // Nothing here stops a handler because its task is gone, so every fate reports.
        return TaskFate.decide(run, activity: activity).result ?? WorkerFailure.shuttingDown("the worker stopped the handler")
    }

    /// `{"status":"SUCCEEDED","output":…}` or `{"status":"FAILED","error":…,"cause":…}`.
    public static func report(_ result: TaskResult) -> String {
        switch result {
        case .success(let output):
            return #"{"status":"SUCCEEDED","output":\#(output)}"#
        case .failure(let error, let cause):
            return #"{"status":"FAILED","error":\#(JSONText.encode(error)),"cause":\#(JSONText.encode(cause))}"#
        }
    }

    static func unixTime() -> Int64 {
        Int64(time(nil))
    }
}
