import Logging

/// How a warm process of an activity is started: the command, the clean environment of today's
/// handlers plus what Lambda runtimes read, directory, identity, kill grace. Two specs that
/// differ mean the activity's launch settings changed (a reload): processes are replaced
/// between tasks.
struct WarmSpec: Sendable, Equatable {
    var executablePath: String
    var arguments: [String]
    /// Without `AWS_LAMBDA_RUNTIME_API`, which names the slot's own listener.
    var environment: [String: String]
    var workingDirectory: String
    var identity: HandlerIdentity?
    var killGrace: Duration
    var maxOutput: Int
    var maxTasksPerProcess: Int?

    init(activity: ActivityConfiguration, workerName: String, daemonEnvironment: [String: String]) {
        executablePath = activity.executablePath
        arguments = activity.command
        var environment = HandlerEnvironment.build(
            activity: activity, workerName: workerName, taskID: "", deadline: nil, daemonEnvironment: daemonEnvironment)
        // Per task for a stdio handler; a warm process outlives its tasks, and gets each one's
        // id and deadline in the /next headers instead.
        environment["STEPWORKER_TASK_ID"] = nil
        environment["STEPWORKER_DEADLINE"] = nil
        environment.merge(Self.lambdaVariables(activity)) { configured, _ in configured }
        self.environment = environment
        workingDirectory = activity.workingDirectory
        identity = activity.identity
        killGrace = activity.killGrace
        maxOutput = activity.maxOutput
        maxTasksPerProcess = activity.maxTasksPerProcess
    }

    /// What Lambda runtimes read (an `environment` entry of the same name wins). `_HANDLER` is
    /// the argument after `awslambdaric` / `aws-lambda-ric` when the command has one.
    static func lambdaVariables(_ activity: ActivityConfiguration) -> [String: String] {
        var variables = [
            "AWS_LAMBDA_FUNCTION_NAME": activity.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": activity.workingDirectory,
            "AWS_REGION": activity.arn.region,
            "AWS_DEFAULT_REGION": activity.arn.region,
        ]
        let runtimeClients: Set<String> = ["awslambdaric", "aws-lambda-ric"]
        if let index = activity.command.firstIndex(where: { runtimeClients.contains(String($0.split(separator: "/").last ?? "")) }),
            index + 1 < activity.command.count
        {
            variables["_HANDLER"] = activity.command[index + 1]
        }
        return variables
    }

    /// `stderrGate` is the slot's: it limits the process's stderr lines per task it holds.
    func invocation(port: Int, logger: Logger, stderrGate: StderrLineGate? = nil) -> HandlerInvocation {
        var environment = self.environment
        environment["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(port)"
        var invocation = HandlerInvocation(
            executablePath: executablePath, arguments: arguments, environment: environment,
            workingDirectory: workingDirectory, identity: identity, input: [], timeout: nil, killGrace: killGrace,
            maxOutput: 64 << 10, logger: logger)
        invocation.stderrGate = stderrGate
        return invocation
    }
}
