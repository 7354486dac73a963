/// The clean environment of a handler (DESIGN section 4): nothing of the daemon's own
/// environment but `HOME` and `LANG`, so credentials and systemd's variables never leak.
public enum HandlerEnvironment {
    public static func build(
        activity: ActivityConfiguration, workerName: String, taskID: String, deadline: Int64?,
        daemonEnvironment: [String: String]
    ) -> [String: String] {
        var environment: [String: String] = [:]
        environment.reserveCapacity(activity.environment.count + 8)  // no rehash as it grows
        environment["PATH"] = ConfigurationDefaults.handlerPath
        environment["HOME"] = activity.identity?.home ?? daemonEnvironment["HOME"] ?? "/"
        if let lang = daemonEnvironment["LANG"] { environment["LANG"] = lang }
        environment.merge(activity.environment) { _, configured in configured }
        environment["STEPWORKER_ACTIVITY_ARN"] = activity.arn.description
        environment["STEPWORKER_ACTIVITY_NAME"] = activity.name
        environment["STEPWORKER_WORKER_NAME"] = workerName
        environment["STEPWORKER_TASK_ID"] = taskID
        if let deadline { environment["STEPWORKER_DEADLINE"] = String(deadline) }
        return environment
    }
}
