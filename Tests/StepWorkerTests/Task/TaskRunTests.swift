import Foundation
import StepFunctions
import StepFunctionsLocal
@testable import StepWorker
import StepWorkerTestKit
import Testing

/// A task's whole run with real handlers against the real local endpoint: heartbeats, a task
/// that is gone, results that get through faults, a stop, and a crash's leftovers.
@Suite(.timeLimit(.minutes(1)))
struct TaskRunTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDTASKRUN", secretAccessKey: "task-run-secret")

    struct Harness {
        var admin: LocalAdminClient
        var client: StepFunctionsClient
        var arn: String
        var directory: TemporaryDirectory
        var files: LedgerJournal
        var log: RecordingLogHandlerStore

        /// A TaskRun for a handler script, with `extra` TOML lines in its [[activity]].
        func taskRun(script: String, extra: String = "") throws -> (TaskRun, ActivityConfiguration) {
            let handler = directory.script(script)
            let toml = """
                [worker]
                name = "task-run-test"
                state_directory = "\(directory.path)"
                [[activity]]
                arn = "\(arn)"
                command = ["\(handler)"]
                \(extra)
                """
            let configuration = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/c.toml")
            let run = TaskRun(
                service: client, runner: SubprocessRunner(), ledger: ledger(), jitter: FixedJitter(0),
                workerName: "task-run-test", daemonEnvironment: [:], logger: log.logger())
            return (run, configuration.activities[0])
        }

        /// The ledger over `files`, delivering with short retries.
        func ledger() -> TaskLedger {
            let delivery = ResultDelivery(
                service: client, jitter: FixedJitter(0),
                backoff: RetryPolicy(maxAttempts: nil, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50)), logger: log.logger())
            return TaskLedger(storage: files, delivery: delivery)
        }

        /// Submits a task and receives it, as a poller would.
        func receiveTask(input: String = "{}", heartbeatSeconds: Int? = nil) async throws -> (id: String, task: ActivityTask) {
            let id = try await admin.submitTask(activityArn: arn, input: input, heartbeatSeconds: heartbeatSeconds)
            let task = try #require(try await client.getActivityTask(activityArn: arn, workerName: "task-run-test"))
            return (id, task)
        }
    }

    func withHarness(_ body: (Harness) async throws -> Void) async throws {
        try await LocalSession.with(
            .init(credentials: Self.credentials, pollDuration: .seconds(2)),
            configureClient: { $0.retryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20)) }
        ) { session in
            let directory = TemporaryDirectory()
            let arn = try await session.admin.createActivity(name: "task-run")
            let files = try LedgerJournal(stateDirectory: directory.path + "/state")
            try await body(Harness(
                admin: session.admin, client: session.client, arn: arn, directory: directory, files: files, log: RecordingLogHandlerStore()))
        }
    }

    @Test func aSuccessIsDeliveredAndLeavesNothingInTheLedger() async throws {
        try await withHarness { h in
            let (run, activity) = try h.taskRun(script: #"read input; echo "{\"got\":$input}""#)
            let (id, task) = try await h.receiveTask(input: #"{"n":7}"#)
            let outcome = try await run.run(task, activity: activity, stop: HandlerStopSwitch())
            #expect(outcome == .reported(.success(output: #"{"got":{"n":7}}"#)))
            let state = try await h.admin.task(id)
            #expect(state.status == "SUCCEEDED")
            #expect(state.output == #"{"got":{"n":7}}"#)
            #expect(try h.files.recover().pending.isEmpty)
        }
    }

    /// Issue 32: a handler flooding stderr gets a bounded share of the log, and its task's one
    /// `Task finished` entry says how many lines were dropped (`STEPWORKER_STDERR_DROPPED`).
    @Test func theTaskFinishedEntryCountsTheStderrLinesDropped() async throws {
        try await withHarness { h in
            let (run, activity) = try h.taskRun(script: "yes | head -n 200000 >&2; echo '{}'")
            let (_, task) = try await h.receiveTask()
            #expect(try await run.run(task, activity: activity, stop: HandlerStopSwitch()) == .reported(.success(output: "{}")))
            let logged = h.log.all.filter { $0.message == "y" }.count
            let finished = try #require(h.log.all.first { $0.message == "Task finished" })
            #expect(finished.metadata["STEPWORKER_STDERR_DROPPED"] == "\(200_000 - logged)")
            #expect(logged < 2000)
            // A quiet task's entry has no such field.
            let (quiet, quietActivity) = try h.taskRun(script: "echo hi >&2; echo '{}'")
            let (_, next) = try await h.receiveTask()
            _ = try await quiet.run(next, activity: quietActivity, stop: HandlerStopSwitch())
            #expect(h.log.all.filter { $0.message == "Task finished" }.last?.metadata["STEPWORKER_STDERR_DROPPED"] == nil)
        }
    }

    @Test func heartbeatsGoOutWhileTheHandlerRuns() async throws {
        try await withHarness { h in
            // The handler runs until the test has seen three beats, so a loaded machine that delays
            // the timer makes the test slower, not wrong.
            let go = h.directory.path + "/go"
            let (run, activity) = try h.taskRun(
                script: "while [ ! -e \(go) ]; do sleep 0.02; done; echo 1", extra: #"heartbeat = "200ms""#)
            let (id, task) = try await h.receiveTask(heartbeatSeconds: 5)
            let started = ContinuousClock.now
            async let outcome = run.run(task, activity: activity, stop: HandlerStopSwitch())
            let beating = try await waitUntil(timeout: .seconds(20)) { try await h.admin.task(id).heartbeatCount >= 3 }
            #expect(FileManager.default.createFile(atPath: go, contents: nil))
            #expect(try await outcome == .reported(.success(output: "1")))
            let elapsed = ContinuousClock.now - started
            #expect(beating, "no three heartbeats in 20 s")
            // One beat every 160-200 ms: never more than the time the handler ran allows.
            let beats = try await h.admin.task(id).heartbeatCount
            let allowed = Int(elapsed / .milliseconds(160)) + 2
            #expect(beats <= allowed, "\(beats) heartbeats in \(elapsed)")
        }
    }

    @Test func aTaskTheServiceCallsGoneStopsTheHandlerGroupAndReportsNothing() async throws {
        try await withHarness { h in
            let pidFile = h.directory.path + "/grandchild.pid"
            let (run, activity) = try h.taskRun(
                script: "sh -c 'trap \"\" TERM; echo $$ > \(pidFile); sleep 60' & sleep 60", extra: #"heartbeat = "2s""# + "\nkill_grace = \"300ms\"")
            let (id, task) = try await h.receiveTask(heartbeatSeconds: 1)
            let started = ContinuousClock.now
            let outcome = try await run.run(task, activity: activity, stop: HandlerStopSwitch())
            #expect(outcome == .gone)
            #expect(ContinuousClock.now - started < .seconds(10))
            let state = try await h.admin.task(id)
            #expect(state.status == "TIMED_OUT")
            #expect(state.error == "States.HeartbeatTimeout")
            let grandchild = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(processIsGone(grandchild))
            #expect(try h.files.recover().pending.isEmpty)
        }
    }

    @Test func aResultGetsThroughThrottlingAndDroppedConnections() async throws {
        try await withHarness { h in
            let (run, activity) = try h.taskRun(script: #"echo '{"ok":true}'"#)
            let (id, task) = try await h.receiveTask()
            try await h.admin.injectFault(FaultRule(fault: .throttle, count: 3, operation: "SendTaskSuccess"))
            try await h.admin.injectFault(FaultRule(fault: .dropConnection, count: 2, operation: "SendTaskSuccess", afterOperation: false))
            #expect(try await run.run(task, activity: activity, stop: HandlerStopSwitch()) == .reported(.success(output: #"{"ok":true}"#)))
            #expect(try await h.admin.task(id).status == "SUCCEEDED")
        }
    }

    @Test func heartbeatsGoOnWhileTheResultIsRetried() async throws {
        try await withHarness { h in
            // The service times the task out after 1 s without a heartbeat; the result is
            // throttled for longer than that after the handler has exited.
            let (run, activity) = try h.taskRun(script: #"echo '{"ok":true}'"#, extra: #"heartbeat = "200ms""#)
            let (id, task) = try await h.receiveTask(heartbeatSeconds: 1)
            try await h.admin.injectFault(FaultRule(fault: .throttle, count: 1_000_000, operation: "SendTaskSuccess"))
            async let outcome = run.run(task, activity: activity, stop: HandlerStopSwitch())
            let beating = try await waitUntil(timeout: .seconds(20)) { try await h.admin.task(id).heartbeatCount >= 8 }
            #expect(beating, "fewer than 8 heartbeats while the result was throttled")
            let during = try await h.admin.task(id)
            #expect(during.status == "STARTED", "\(during.status) \(during.error ?? "")")
            try await h.admin.clearFaults()
            #expect(try await outcome == .reported(.success(output: #"{"ok":true}"#)))
            #expect(try await h.admin.task(id).status == "SUCCEEDED")
        }
    }

    @Test func aStoppedHandlerFailsTheTaskWithWorkerShuttingDown() async throws {
        try await withHarness { h in
            let (run, activity) = try h.taskRun(script: "echo started >&2; sleep 60", extra: #"kill_grace = "200ms""#)
            let (id, task) = try await h.receiveTask()
            let stop = HandlerStopSwitch()
            async let outcome = run.run(task, activity: activity, stop: stop)
            #expect(await h.log.waitFor { $0.contains("started") })
            stop.stopAll()
            guard case .reported(.failure(let error, _)) = try await outcome else {
                Issue.record("expected a delivered failure")
                return
            }
            #expect(error == "Worker.ShuttingDown")
            #expect(try await h.admin.task(id).error == "Worker.ShuttingDown")
        }
    }

    @Test func aTaskACrashedWorkerLeftRunningIsFailedAsInterrupted() async throws {
        try await withHarness { h in
            let (id, task) = try await h.receiveTask()
            await h.ledger().begin(task.token, activityArn: h.arn, logger: h.log.logger())
            // The worker "crashes" here; the next start recovers and delivers.
            let restarted = Harness(
                admin: h.admin, client: h.client, arn: h.arn, directory: h.directory,
                files: try LedgerJournal(stateDirectory: h.directory.path + "/state"), log: h.log)
            let pending = await restarted.ledger().recover(logger: h.log.logger())
            #expect(pending.count == 1)
            #expect(try await restarted.ledger().resume(pending[0], activity: "task-run", logger: h.log.logger())
                == .reported(.failure(error: "Worker.Interrupted", cause: "the worker restarted with this task unfinished")))
            let state = try await h.admin.task(id)
            #expect(state.status == "FAILED")
            #expect(state.error == "Worker.Interrupted")
            // The cleared record is not waited for; another journal reads it once it is written.
            await restarted.files.flush()
            #expect(try h.files.recover().pending.isEmpty)
        }
    }

    /// The service refuses a success it cannot take (here: output that is not JSON): the
    /// `Handler.InvalidOutput` failure goes instead, and the settlement says so, so `STATUS=` and
    /// `stepworker_tasks_total` count the task as failed, as the service recorded it.
    @Test func aSuccessTheServiceRefusesIsSettledAsTheHandlerInvalidOutputFailureSent() async throws {
        try await withHarness { h in
            let (_, activity) = try h.taskRun(script: "true")
            let (id, task) = try await h.receiveTask()
            let settlement = try await h.ledger().settle(
                .report(.success(output: "not json")), token: task.token, activity: activity, started: .now, logger: h.log.logger())
            guard case .reported(.failure(let error, let cause)) = settlement else {
                Issue.record("expected the failure that was sent, got \(settlement)")
                return
            }
            #expect(error == "Handler.InvalidOutput")
            #expect(cause.hasPrefix("the service refused the output: "))
            let state = try await h.admin.task(id)
            #expect(state.status == "FAILED")
            #expect(state.error == "Handler.InvalidOutput")
            #expect(try h.files.recover().pending.isEmpty)
        }
    }
}
