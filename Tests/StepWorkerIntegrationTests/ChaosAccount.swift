import Foundation
import StepFunctionsLocal

/// Where every task of a chaos run ended, decided from what the endpoint recorded, the
/// handlers' start lines and the kill times alone (pure: no processes, no clock), so the rules
/// are tested on their own (`ChaosAccountTests`).
///
/// A task may end as: succeeded with its own output; failed `Worker.Interrupted` (a kill came
/// while it was received, running or being reported); or lost and never started, so it waited
/// for its heartbeat timeout: handed to a daemon run within `window` before that run was killed
/// (lost in flight: the answer died with the process), or after it was killed, to a poll the
/// dead run had left open (the service cannot tell a dead poller from a slow one). Those losses
/// are the protocol's own hazards and are counted apart; each run has its own worker name, so
/// the endpoint's `workerName` says which run a task was handed to. Everything else is a problem: a started task lost, a conflicting result,
/// a handler run twice, a wrong output, another error, a loss no kill explains, an unfinished task.
struct ChaosAccount: Equatable, CustomStringConvertible {
    /// One task as the account needs it.
    struct Task: Equatable {
        /// The key the input carries (`"id"`).
        var key: String
        var input: String
        var status: String
        var output: String?
        var error: String?
        /// When the endpoint handed the task out, and to which worker name.
        var startedAt: Date?
        var workerName: String?
        var conflictingResults: Int
        /// Start lines the handler wrote for this key.
        var handlerStarts: Int
    }

    var succeeded = 0
    /// Failed `Worker.Interrupted`; `interruptedRunning` of them had their handler started.
    var interrupted = 0
    var interruptedRunning = 0
    /// Handed out at most `window` before its run was killed, never started (milliseconds
    /// before the kill).
    var lostInFlight: [Double] = []
    /// Handed out after its run was killed, to a poll the dead run had left open, never started
    /// (milliseconds after the kill).
    var lostToDeadPoll: [Double] = []
    var problems: [String] = []

    /// `kills`: when each killed run (by worker name) was killed.
    init(tasks: [Task], kills: [String: Date], window: TimeInterval, deadPollLife: TimeInterval) {
        for task in tasks {
            if task.handlerStarts > 1 { problems.append("\(task.key): handler ran \(task.handlerStarts) times") }
            if task.conflictingResults > 0 { problems.append("\(task.key): \(task.conflictingResults) conflicting results") }
            switch task.status {
            case "SUCCEEDED":
                if task.output == task.input { succeeded += 1 } else { problems.append("\(task.key): output \(task.output ?? "null"), not its input") }
            case "FAILED" where task.error == "Worker.Interrupted":
                interrupted += 1
                if task.handlerStarts > 0 { interruptedRunning += 1 }
            case "FAILED":
                problems.append("\(task.key): failed \(task.error ?? "null")")
            case "TIMED_OUT" where task.handlerStarts > 0:
                problems.append("\(task.key): started, then lost (timed out)")
            case "TIMED_OUT":
                guard let handedOut = task.startedAt, let worker = task.workerName else {
                    problems.append("\(task.key): timed out before it was handed out")
                    continue
                }
                guard let kill = kills[worker] else {
                    problems.append("\(task.key): lost by \(worker), which was never killed")
                    continue
                }
                let afterKill = handedOut.timeIntervalSince(kill)
                if afterKill <= 0 && -afterKill <= window {
                    lostInFlight.append(-afterKill * 1000)
                } else if afterKill > 0 && afterKill <= deadPollLife {
                    lostToDeadPoll.append(afterKill * 1000)
                } else {
                    problems.append("\(task.key): lost by \(worker), handed out \(afterKill) s after its kill")
                }
            default:
                problems.append("\(task.key): still \(task.status)")
            }
        }
    }

    var description: String {
        let widest = lostInFlight.max().map { String(format: " (at most %.1f ms before the kill)", $0) } ?? ""
        let latest = lostToDeadPoll.max().map { String(format: " (up to %.0f ms after the kill)", $0) } ?? ""
        return "succeeded \(succeeded), interrupted \(interrupted) (\(interruptedRunning) with the handler started), "
            + "lost in flight \(lostInFlight.count)\(widest), lost to a killed run's open polls \(lostToDeadPoll.count)\(latest); "
            + "problems \(problems.count)"
    }
}

extension ChaosAccount.Task {
    /// From the endpoint's record and the handlers' start counts by key.
    init(_ state: LocalAdminClient.TaskState, starts: [String: Int]) {
        let key = ChaosInput.key(of: state.input) ?? state.id
        self.init(
            key: key, input: state.input, status: state.status, output: state.output, error: state.error,
            startedAt: state.startedAt.flatMap(ChaosInput.date), workerName: state.workerName, conflictingResults: state.conflictingResults,
            handlerStarts: starts[key] ?? 0)
    }
}
