import Foundation
import StepFunctions
import StepFunctionsLocal
@testable import StepWorker
import Systemd
import StepWorkerTestKit
import Testing

/// The supervisor in-process against the local endpoint, with real `/bin/sh` handlers and a
/// recording notifier: what systemd is told, and that stop drains and returns.
@Suite(.timeLimit(.minutes(1)))
struct SupervisorTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDSUPERVISOR", secretAccessKey: "supervisor-secret")

    struct Harness {
        var server: LocalEndpointServer
        var admin: LocalAdminClient
        var client: StepFunctionsClient
        var directory = TemporaryDirectory()
        var log = RecordingLogHandlerStore()
        var notifier = RecordingNotifier()

        var stateDirectory: String { directory.path + "/state" }

        /// A configuration with one activity per `(name, script, extra TOML)`.
        func configuration(_ activities: [(String, String, String)], grace: String = "5s") async throws -> Configuration {
            var toml = "[worker]\nstate_directory = \"\(stateDirectory)\"\nshutdown_grace = \"\(grace)\"\n"
            for (name, script, extra) in activities {
                let arn = try await admin.createActivity(name: name)
                let handler = directory.script(script, name: "\(name).sh")
                toml += "[[activity]]\narn = \"\(arn)\"\ncommand = [\"\(handler)\"]\n\(extra)\n"
            }
            return try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/stepworker.toml")
        }

        func supervisor(
            _ configuration: Configuration, watchdogTimeout: Duration? = nil,
            stallLimit: Duration = StallDetector<ContinuousClock.Instant>.defaultLimit,
            deliveryAllowance: Duration = .seconds(90),
            loadConfiguration: (@Sendable () throws -> Configuration)? = nil
        ) throws -> Supervisor<ContinuousClock> {
            try Supervisor(
                configuration: configuration, service: client, runner: SubprocessRunner(), notifier: notifier,
                clock: ContinuousClock(), watchdogTimeout: watchdogTimeout, daemonEnvironment: ["PATH": "/usr/bin:/bin"],
                stallLimit: stallLimit, statusInterval: .milliseconds(50), deliveryAllowance: deliveryAllowance,
                loadConfiguration: loadConfiguration, logger: log.logger())
        }

        /// Waits until the notifier has sent a line `predicate` accepts.
        func waitForNotification(timeout: Duration = .seconds(20), _ predicate: (String) -> Bool) async -> Bool {
            (try? await waitUntil(timeout: timeout) { notifier.assignments.contains(where: predicate) }) ?? false
        }
    }

    func withHarness(_ body: (Harness) async throws -> Void) async throws {
        try await LocalSession.with(.init(credentials: Self.credentials, pollDuration: .seconds(1))) { session in
            try await body(Harness(server: session.server, admin: session.admin, client: session.client))
        }
    }

    @Test func readyThenStatusThenEveryTaskSucceedsAndStopDrains() async throws {
        try await withHarness { h in
            let configuration = try await h.configuration([
                ("echo-a", "read input; echo \"$input\"", "concurrency = 3\npollers = 2"),
                ("echo-b", "sleep 0.05; cat", "concurrency = 2"),
            ])
            let supervisor = try h.supervisor(configuration)
            let running = Task { await supervisor.run() }
            #expect(await h.waitForNotification { $0 == "READY=1" })
            #expect(h.notifier.history.first == [.ready, .status("0 running, 0 succeeded, 0 failed; 2 activities")])

            var ids: [String] = []
            for n in 0..<20 {
                let arn = configuration.activities[n % 2].arn.description
                ids.append(try await h.admin.submitTask(activityArn: arn, input: #"{"n":\#(n)}"#))
            }
            for id in ids {
                let state = try await h.admin.task(id, waitUpTo: .seconds(30))
                #expect(state.status == "SUCCEEDED", "task \(id): \(state.status) \(state.error ?? "")")
            }
            #expect(await h.waitForNotification { $0 == "STATUS=0 running, 20 succeeded, 0 failed; 2 activities" })

            supervisor.stop()
            supervisor.stop()  // a repeat is only logged
            await running.value
            let lines = h.notifier.assignments
            #expect(lines.contains("STOPPING=1"))
            #expect(lines.contains { $0.hasPrefix("EXTEND_TIMEOUT_USEC=") })
            #expect(lines.firstIndex(of: "READY=1")! < lines.firstIndex(of: "STOPPING=1")!)
            #expect(supervisor.counters == {
                var expected = SupervisorCounters([])
                expected.succeeded = 20
                expected.activities = 2
                return expected
            }())
            #expect(h.log.messages.contains("Stop requested again; still draining (pending results are delivered first)"))
            let stats = try await h.admin.stats()
            for activity in configuration.activities {
                #expect(stats.activities[activity.arn.description]?.openPolls == 0)
            }
        }
    }

    @Test func theShutdownGraceStopsHandlersThatOutliveIt() async throws {
        try await withHarness { h in
            let marker = h.directory.path + "/started"
            let configuration = try await h.configuration([("slow", "touch \(marker); exec sleep 30", "")], grace: "300ms")
            let supervisor = try h.supervisor(configuration)
            let running = Task { await supervisor.run() }
            #expect(await h.waitForNotification { $0 == "READY=1" })
            let id = try await h.admin.submitTask(activityArn: configuration.activities[0].arn.description)
            while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(10)) }
            let elapsed = await ContinuousClock().measure {
                supervisor.stop()
                await running.value
            }
            #expect(elapsed < .seconds(15))
            let state = try await h.admin.task(id)
            #expect(state.status == "FAILED")
            #expect(state.error == "Worker.ShuttingDown")
            #expect(supervisor.counters.failed == 1)
        }
    }

    /// With the service refusing every result, a stop still ends: after the grace and the
    /// delivery allowance the daemon exits and the result waits in the outbox for the next start.
    @Test func aStopEndsEvenWhenTheServiceNeverTakesTheResult() async throws {
        try await withHarness { h in
            let marker = h.directory.path + "/done"
            let configuration = try await h.configuration([("stuck", "touch \(marker); echo 1", "")], grace: "200ms")
            let supervisor = try h.supervisor(configuration, deliveryAllowance: .milliseconds(500))
            let running = Task { await supervisor.run() }
            #expect(await h.waitForNotification { $0 == "READY=1" })
            try await h.admin.injectFault(FaultRule(fault: .serverError, count: 100_000, operation: "SendTaskSuccess"))
            let id = try await h.admin.submitTask(activityArn: configuration.activities[0].arn.description)
            while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(10)) }
            let elapsed = await ContinuousClock().measure {
                supervisor.stop()
                await running.value
            }
            #expect(elapsed < .seconds(5))
            #expect(try await h.admin.task(id).status == "STARTED")
            let pending = try LedgerJournal(stateDirectory: h.stateDirectory).recover().pending
            #expect(pending.map(\.result) == [.success(output: "1")])
        }
    }

    @Test func theWatchdogPingsWhilePollersProgressAndStopsWhenTheyStall() async throws {
        try await withHarness { h in
            let configuration = try await h.configuration([("watched", "cat", "")])
            let healthy = try h.supervisor(configuration, watchdogTimeout: .milliseconds(200))
            let running = Task { await healthy.run() }
            #expect(await h.waitForNotification { $0 == "WATCHDOG=1" })
            healthy.stop()
            await running.value

            // Polls take 1 s here: with a 1 ms limit every check finds the pollers stalled.
            let notifier = RecordingNotifier()
            var stalledHarness = h
            stalledHarness.notifier = notifier
            let stalled = try stalledHarness.supervisor(configuration, watchdogTimeout: .milliseconds(200), stallLimit: .milliseconds(1))
            let stalledRun = Task { await stalled.run() }
            #expect(await h.log.waitFor { $0 == "Health check failed; withholding watchdog pings" })
            try await Task.sleep(for: .milliseconds(300))  // three more checks, all failing
            // Only the first check, before any progress could be measured, may have pinged.
            #expect(notifier.assignments.filter { $0 == "WATCHDOG=1" }.count <= 1, "\(notifier.assignments)")
            #expect(notifier.assignments.contains("READY=1"))
            stalled.stop()
            await stalledRun.value
        }
    }

    /// Results a previous run left in the outbox are delivered, and tasks it left running are
    /// failed with `Worker.Interrupted`, before the pollers need them.
    @Test func resultsLeftByAPreviousRunAreDelivered() async throws {
        try await withHarness { h in
            let configuration = try await h.configuration([("leftover", "cat", "")])
            let arn = configuration.activities[0].arn.description
            let finished = try await h.admin.submitTask(activityArn: arn, input: #"{"done":true}"#)
            let interrupted = try await h.admin.submitTask(activityArn: arn)
            let outbox = try LedgerJournal(stateDirectory: h.stateDirectory)
            for _ in 0..<2 {
                let task = try #require(try await h.client.getActivityTask(activityArn: arn, workerName: "previous"))
                try await outbox.recordStarted(token: task.token, activityArn: arn)
                if task.input.contains("done") {
                    try await outbox.store(.success(output: #"{"delivered":"later"}"#), token: task.token, activityArn: arn)
                }
            }
            let supervisor = try h.supervisor(configuration)
            let running = Task { await supervisor.run() }
            #expect(try await h.admin.task(finished, waitUpTo: .seconds(20)).output == #"{"delivered":"later"}"#)
            let failed = try await h.admin.task(interrupted, waitUpTo: .seconds(20))
            #expect(failed.status == "FAILED")
            #expect(failed.error == "Worker.Interrupted")
            supervisor.stop()
            await running.value
            #expect(try outbox.recover().pending.isEmpty)
        }
    }

    /// Removals from the ledger are not fsynced: a record a crash brought back after its result
    /// was taken is that result (one record per task), sent again at start, refused by the
    /// service as finished, and cleared; the task keeps its first outcome.
    @Test func aRecordACrashBroughtBackIsRefusedAndCleared() async throws {
        try await withHarness { h in
            let configuration = try await h.configuration([("revived", "cat", "")])
            let arn = configuration.activities[0].arn.description
            let id = try await h.admin.submitTask(activityArn: arn, input: #"{"first":true}"#)
            let task = try #require(try await h.client.getActivityTask(activityArn: arn, workerName: "previous"))
            try await h.client.sendTaskSuccess(token: task.token, output: #"{"first":true}"#)
            let outbox = try LedgerJournal(stateDirectory: h.stateDirectory)
            try await outbox.recordStarted(token: task.token, activityArn: arn)  // as if the removal was lost
            try await outbox.store(.success(output: #"{"first":true}"#), token: task.token, activityArn: arn)

            let supervisor = try h.supervisor(configuration)
            let running = Task { await supervisor.run() }
            #expect(await h.log.waitFor { $0 == "Task is gone; result not delivered" })
            supervisor.stop()
            await running.value
            let state = try await h.admin.task(id)
            #expect(state.status == "SUCCEEDED")
            #expect(state.output == #"{"first":true}"#)
            #expect(state.conflictingResults == 0)
            #expect(state.resultAttempts == 2 && state.rejectedResults == 1)
            #expect(try outbox.recover().pending.isEmpty)
            #expect(FileManager.default.subpaths(atPath: h.stateDirectory + "/inflight")?.isEmpty ?? true)
        }
    }
}

/// The watchdog's health decision, without time or I/O.
@Suite(.timeLimit(.minutes(1)))
struct StallDetectorTests {
    let start = ContinuousClock.now

    func counters(polls: Int, errors: Int = 0, running: Int = 0) -> ActivityPool.Counters {
        var counters = ActivityPool.Counters()
        counters.pollsCompleted = polls
        counters.pollErrors = errors
        counters.running = running
        return counters
    }

    @Test func aPoolWithoutProgressForLongerThanTheLimitIsStalled() {
        var detector = StallDetector<ContinuousClock.Instant>(limit: .seconds(100))
        func check(_ a: ActivityPool.Counters, _ b: ActivityPool.Counters, at seconds: Int, draining: Bool = false) -> WatchdogHealth {
            detector.check([.init(name: "a", counters: a, capacity: 1), .init(name: "b", counters: b, capacity: 2)],
                           draining: draining, now: start + .seconds(seconds))
        }
        #expect(check(counters(polls: 0), counters(polls: 0), at: 0) == .healthy)
        #expect(check(counters(polls: 1), counters(polls: 0), at: 60) == .healthy)
        #expect(check(counters(polls: 2), counters(polls: 0), at: 100) == .healthy)  // exactly the limit
        #expect(check(counters(polls: 3), counters(polls: 0), at: 101) == .unhealthy("no poll returned for over 100.0 seconds in: b"))
        #expect(check(counters(polls: 3), counters(polls: 0, errors: 1), at: 102) == .healthy)  // an error is progress too
        // b's every slot is busy: no poll is expected, and the clock starts again when one frees
        #expect(check(counters(polls: 4), counters(polls: 0, errors: 1, running: 2), at: 200) == .healthy)
        #expect(check(counters(polls: 5), counters(polls: 0, errors: 1), at: 290) == .healthy)
        #expect(check(counters(polls: 6), counters(polls: 0, errors: 1), at: 301) == .unhealthy("no poll returned for over 100.0 seconds in: b"))
        #expect(check(counters(polls: 6), counters(polls: 0, errors: 1), at: 500, draining: true) == .healthy)
    }

    @Test func pollersWaitingForAWarmHandlerAreNotAStall() {
        var detector = StallDetector<ContinuousClock.Instant>(limit: .seconds(100))
        var waiting = counters(polls: 0)
        waiting.waitingForHandler = 1
        #expect(detector.check([.init(name: "warm", counters: waiting, capacity: 2)], draining: false, now: start) == .healthy)
        #expect(detector.check([.init(name: "warm", counters: waiting, capacity: 2)], draining: false, now: start + .seconds(500)) == .healthy)
        // Ready again but still not polling: the clock runs from here.
        #expect(detector.check([.init(name: "warm", counters: counters(polls: 0), capacity: 2)], draining: false, now: start + .seconds(550)) == .healthy)
        #expect(detector.check([.init(name: "warm", counters: counters(polls: 0), capacity: 2)], draining: false, now: start + .seconds(651))
            == .unhealthy("no poll returned for over 100.0 seconds in: warm"))
    }

    @Test func poolsAReloadAddsStartTheirClockAndRemovedOnesAreForgotten() {
        var detector = StallDetector<ContinuousClock.Instant>(limit: .seconds(100))
        func check(_ pools: [String: Int], at seconds: Int) -> WatchdogHealth {
            detector.check(pools.sorted { $0.key < $1.key }.map { .init(name: $0.key, counters: counters(polls: $0.value), capacity: 1) },
                           draining: false, now: start + .seconds(seconds))
        }
        #expect(check(["a": 0], at: 0) == .healthy)
        #expect(check(["a": 1, "b": 0], at: 90) == .healthy)  // b added by a reload: its clock starts now
        #expect(check(["a": 2, "b": 0], at: 180) == .healthy)
        #expect(check(["a": 3, "b": 0], at: 191) == .unhealthy("no poll returned for over 100.0 seconds in: b"))
        #expect(check(["a": 4], at: 192) == .healthy)  // b removed
        #expect(check(["a": 5, "b": 0], at: 250) == .healthy)  // b back: a fresh clock, not the old one
        #expect(check(["a": 6, "b": 0], at: 340) == .healthy)
    }

    @Test func theStatusLineSumsEveryPool() {
        var a = ActivityPool.Counters(), b = ActivityPool.Counters()
        a.running = 2; a.succeeded = 1000; a.failed = 1
        b.running = 1; b.succeeded = 204; b.failed = 2; b.gone = 5
        #expect(SupervisorCounters([a, b]).statusLine == "3 running, 1204 succeeded, 3 failed; 2 activities")
        #expect(SupervisorCounters([a]).statusLine == "2 running, 1000 succeeded, 1 failed; 1 activity")
        // a pool a reload removed still counts until its tasks are done, but not as an activity
        #expect(SupervisorCounters([a, b], activities: 1).statusLine == "3 running, 1204 succeeded, 3 failed; 1 activity")
    }
}
