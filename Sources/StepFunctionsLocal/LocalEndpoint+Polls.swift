import FoundationEssentials
import StepFunctions

/// `GetActivityTask` as a real long poll, and waiting for a task to finish.
extension LocalEndpoint {
    /// Waits until a task of the activity is scheduled, or `pollDuration` passes (then nil, which
    /// the service answers as `{}`). Polls are served first come, first served. A poll whose
    /// caller is cancelled (the server shutting down) answers nil; a client that goes away is not
    /// noticed, as with the service: a task handed to it is lost until its timeout.
    public func getActivityTask(activityArn: String, workerName: String?) async throws(LocalServiceError) -> TaskHandout? {
        if let workerName, !(1...TaskLimits.maxWorkerNameCharacters).contains(workerName.unicodeScalars.count) {
            throw .constraint(
                "workerName", "Member must have length less than or equal to \(TaskLimits.maxWorkerNameCharacters)",
                value: workerName)
        }
        _ = try existingActivity(activityArn)
        let limit = configuration.maxOpenPollsPerActivity
        guard openPolls(activityArn) < limit else { throw .workerLimit(activityArn, limit: limit) }
        count("GetActivityTask", activityArn: activityArn)
        pollOpened(activityArn)
        var handout: TaskHandout?
        defer { pollClosed(activityArn, handedOutTask: handout != nil) }
        if pollWaiters[activityArn, default: []].isEmpty, let taken = takeScheduled(activityArn, workerName: workerName) {
            handout = taken
            return taken
        }
        let id = makeID()
        let duration = configuration.pollDuration
        handout = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard !Task.isCancelled else { return continuation.resume(returning: nil) }
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: duration)
                    await self?.endPoll(id: id, activityArn: activityArn)
                }
                pollWaiters[activityArn, default: []].append(
                    PollWaiter(id: id, workerName: workerName, continuation: continuation, timer: timer))
            }
        } onCancel: {
            Task { await self.endPoll(id: id, activityArn: activityArn) }
        }
        return handout
    }

    /// Waits until the task has finished or `timeout` has passed; the task as it is then.
    public func waitForTask(id: String, timeout: Duration) async -> LocalTask? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while true {
            expire(id)
            guard let task = tasks[id] else { return nil }
            if task.status.isFinished || clock.now >= end || Task.isCancelled { return task }
            var wake = end
            if let deadline = task.deadline {
                let untilDeadline = Duration.milliseconds(Int64(max(0, deadline.timeIntervalSince(now)) * 1000) + 1)
                wake = min(end, clock.now.advanced(by: untilDeadline))
            }
            await waitForChange(of: id, until: wake)
        }
    }

    // MARK: Internals

    /// Hands scheduled tasks to waiting polls, oldest to oldest.
    func dispatch(_ arn: String) {
        while var waiters = pollWaiters[arn], !waiters.isEmpty {
            guard let handout = takeScheduled(arn, workerName: waiters[0].workerName) else { return }
            let waiter = waiters.removeFirst()
            pollWaiters[arn] = waiters
            waiter.timer.cancel()
            waiter.continuation.resume(returning: handout)
        }
    }

    /// Starts the oldest scheduled task of the activity that has not timed out.
    func takeScheduled(_ arn: String, workerName: String?) -> TaskHandout? {
        while let id = scheduled[arn]?.popFirst() {
            guard var task = tasks[id] else { continue }
            let token = Self.makeToken()
            do {
                try task.start(token: token, workerName: workerName, at: now)
            } catch {
                tasks[id] = task
                taskChanged(id)
                continue
            }
            tasks[id] = task
            taskIDsByToken[token] = id
            return TaskHandout(taskID: id, token: token, input: task.input)
        }
        return nil
    }

    func endPoll(id: Int, activityArn: String) {
        guard let index = pollWaiters[activityArn]?.firstIndex(where: { $0.id == id }),
            let waiter = pollWaiters[activityArn]?.remove(at: index)
        else { return }
        waiter.timer.cancel()
        waiter.continuation.resume(returning: nil)
    }

    /// Suspends until `taskChanged(id)`, `wake`, or cancellation, whichever comes first.
    func waitForChange(of taskID: String, until wake: ContinuousClock.Instant) async {
        let id = makeID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard !Task.isCancelled else { return continuation.resume() }
                let timer = Task { [weak self] in
                    try? await Task.sleep(until: wake, clock: .continuous)
                    await self?.endChangeWait(id: id)
                }
                changeWaiters[id] = ChangeWaiter(taskID: taskID, continuation: continuation, timer: timer)
            }
        } onCancel: {
            Task { await self.endChangeWait(id: id) }
        }
    }

    func endChangeWait(id: Int) {
        guard let waiter = changeWaiters.removeValue(forKey: id) else { return }
        waiter.timer.cancel()
        waiter.continuation.resume()
    }

    /// Wakes everyone waiting for a change of the task.
    func taskChanged(_ taskID: String) {
        for (id, waiter) in changeWaiters where waiter.taskID == taskID {
            endChangeWait(id: id)
        }
    }
}
