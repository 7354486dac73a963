import FoundationEssentials
import NIOCore
import StepFunctions

/// Submitting tasks, `SendTaskSuccess`, `SendTaskFailure`, `SendTaskHeartbeat`, and reading tasks.
extension LocalEndpoint {
    /// Schedules a task; a waiting poll receives it at once. Returns its id.
    public func submitTask(_ submission: TaskSubmission) throws(LocalServiceError) -> String {
        _ = try existingActivity(submission.activityArn)
        let input = submission.input ?? "{}"
        guard input.utf8.count <= TaskLimits.maxPayloadBytes else {
            throw .constraint("input", "Member must have length less than or equal to \(TaskLimits.maxPayloadBytes)")
        }
        guard Self.isJSON(input) else { throw .validation("Invalid input: not valid JSON") }
        for (field, value) in [("heartbeatSeconds", submission.heartbeatSeconds), ("timeoutSeconds", submission.timeoutSeconds)] {
            // The service's limit for both is 99,999,999 seconds.
            if let value, !(value > 0 && value <= 99_999_999) {
                throw .validation("\(field) must be greater than 0 and at most 99999999")
            }
        }
        let id = "t\(makeID())"
        tasks[id] = LocalTask(
            id: id, activityArn: submission.activityArn, input: input, heartbeatSeconds: submission.heartbeatSeconds,
            timeoutSeconds: submission.timeoutSeconds, scheduledAt: now)
        taskOrder.append(id)
        scheduled[submission.activityArn, default: []].append(id)
        dispatch(submission.activityArn)
        return id
    }

    public func sendTaskSuccess(token: String, output: String) throws(LocalServiceError) {
        try Self.validate(token: token)
        guard output.utf8.count <= TaskLimits.maxPayloadBytes else {
            throw .constraint("output", "Member must have length less than or equal to \(TaskLimits.maxPayloadBytes)")
        }
        guard Self.isJSON(output) else { throw .invalidOutput }
        try updateTask(token: token, operation: "SendTaskSuccess") { task, now throws(LocalTask.Rejection) in
            try task.succeed(output: output, at: now)
        }
    }

    public func sendTaskFailure(token: String, error: String?, cause: String?) throws(LocalServiceError) {
        try Self.validate(token: token)
        if let error, error.unicodeScalars.count > TaskLimits.maxErrorCharacters {
            throw .constraint("error", "Member must have length less than or equal to \(TaskLimits.maxErrorCharacters)")
        }
        if let cause, cause.unicodeScalars.count > TaskLimits.maxCauseCharacters {
            throw .constraint("cause", "Member must have length less than or equal to \(TaskLimits.maxCauseCharacters)")
        }
        try updateTask(token: token, operation: "SendTaskFailure") { task, now throws(LocalTask.Rejection) in
            try task.fail(error: error, cause: cause, at: now)
        }
    }

    public func sendTaskHeartbeat(token: String) throws(LocalServiceError) {
        try Self.validate(token: token)
        try updateTask(token: token, operation: "SendTaskHeartbeat") { task, now throws(LocalTask.Rejection) in
            try task.heartbeat(at: now)
        }
    }

    /// The task as it is now (deadlines applied).
    public func task(id: String) -> LocalTask? {
        expire(id)
        return tasks[id]
    }

    /// Tasks in submission order, optionally only those with this status and/or activity.
    public func tasks(status: LocalTask.Status? = nil, activityArn: String? = nil) -> [LocalTask] {
        expireAll()
        return taskOrder.compactMap { tasks[$0] }.filter { task in
            (status.map { task.status == $0 } ?? true) && (activityArn.map { task.activityArn == $0 } ?? true)
        }
    }

    // MARK: Internals

    func updateTask(
        token: String, operation: String, _ event: (inout LocalTask, Date) throws(LocalTask.Rejection) -> Void
    ) throws(LocalServiceError) {
        guard let id = taskIDsByToken[token], var task = tasks[id] else { throw .invalidToken }
        count(operation, activityArn: task.activityArn)
        let wasFinished = task.status.isFinished
        let wasStarted = task.status == .started
        defer {
            tasks[id] = task
            if task.status.isFinished && !wasFinished {
                if wasStarted { startedTaskFinished(task.activityArn) }
                taskChanged(id)
            }
        }
        do {
            try event(&task, now)
        } catch {
            // A started task is never "not started"; either way the token is dead to the caller.
            throw .taskTimedOut
        }
    }

    /// Applies a passed deadline to one task, waking whoever waits for it.
    func expire(_ id: String) {
        let wasStarted = tasks[id]?.status == .started
        guard tasks[id]?.expire(at: now) == true, let task = tasks[id] else { return }
        if wasStarted { startedTaskFinished(task.activityArn) }
        taskChanged(id)
    }

    func expireAll() {
        for id in taskOrder where tasks[id]?.deadline != nil { expire(id) }
    }

    static func validate(token: String) throws(LocalServiceError) {
        guard !token.isEmpty else { throw .constraint("taskToken", "Member must have length greater than or equal to 1") }
        guard token.count <= TaskLimits.maxTaskTokenCharacters else {
            throw .constraint("taskToken", "Member must have length less than or equal to \(TaskLimits.maxTaskTokenCharacters)")
        }
    }

    static func isJSON(_ text: String) -> Bool {
        (try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))) != nil
    }

    /// 528 random bytes in base64url: 704 characters.
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<528).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacing("+", with: "-")
            .replacing("/", with: "_")
            .replacing("=", with: "")
    }
}

/// Any one JSON value, ignored: JSONDecoder parses the whole text before it asks for one, so
/// decoding this says whether the text is JSON (any type at the top, as the service takes).
private struct AnyJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}
