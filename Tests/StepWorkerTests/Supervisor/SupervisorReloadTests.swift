import Foundation
import Logging
import StepFunctions
import StepFunctionsLocal
import StepWorker
import Systemd
import StepWorkerTestKit
import Testing

/// Reload in-process against the local endpoint with real handlers: activities added, removed
/// and resized while handlers run (never interrupting them), and configurations that are refused.
@Suite(.timeLimit(.minutes(1)))
struct SupervisorReloadTests {
    typealias Harness = SupervisorTests.Harness

    /// One `[[activity]]`: its ARN, handler and extra TOML lines.
    struct Activity {
        var arn: String
        var handler: String
        var extra = ""

        var toml: String { "[[activity]]\narn = \"\(arn)\"\ncommand = [\"\(handler)\"]\n\(extra)\n" }
    }

    /// The configuration file a reload reads, rewritten by the test.
    struct ConfigurationFile: Sendable {
        var path: String
        var stateDirectory: String

        func write(_ activities: [Activity], header: String = "") {
            let text = header + "[worker]\nstate_directory = \"\(stateDirectory)\"\nshutdown_grace = \"5s\"\n"
                + activities.map(\.toml).joined()
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        }

        func load() throws -> Configuration {
            try ConfigurationLoader(host: TestHostFacts()).load(path: path)
        }
    }

    /// A handler that waits for `gate` to exist, then echoes its input; `started.PID` marks it running.
    static func gatedScript(_ directory: String) -> String {
        """
        touch \(directory)/started.$$
        while [ ! -e \(directory)/gate ]; do sleep 0.02; done
        cat
        """
    }

    func withReloadHarness(
        _ body: (Harness, ConfigurationFile) async throws -> Void
    ) async throws {
        try await LocalSession.with(.init(credentials: SupervisorTests.credentials, pollDuration: .seconds(1))) { session in
            let h = Harness(server: session.server, admin: session.admin, client: session.client)
            let file = ConfigurationFile(path: h.directory.path + "/stepworker.toml", stateDirectory: h.stateDirectory)
            try await body(h, file)
        }
    }

    /// Starts a supervisor on `file` (a reload reads it again) and waits for `READY=1`.
    func start(_ h: Harness, _ file: ConfigurationFile) async throws -> (Supervisor<ContinuousClock>, Task<Void, Never>) {
        let supervisor = try h.supervisor(try file.load(), loadConfiguration: { try file.load() })
        let running = Task { await supervisor.run() }
        #expect(await h.waitForNotification { $0 == "READY=1" })
        return (supervisor, running)
    }

    func activity(_ h: Harness, _ name: String, script: String, extra: String = "") async throws -> Activity {
        Activity(arn: try await h.admin.createActivity(name: name), handler: h.directory.script(script, name: "\(name).sh"), extra: extra)
    }

    func touch(_ path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
    }

    func started(_ directory: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("started.") }.count
    }

    /// Asks for a reload and waits for the `READY=1` that ends it.
    func reload(_ supervisor: Supervisor<ContinuousClock>, _ h: Harness) async -> Bool {
        let readies = h.notifier.assignments.filter { $0 == "READY=1" }.count
        supervisor.reload()
        return await h.waitForNotification { _ in h.notifier.assignments.filter { $0 == "READY=1" }.count > readies }
    }

    @Test func aReloadAddsAnActivityWithoutTouchingARunningHandler() async throws {
        try await withReloadHarness { h, file in
            let gates = h.directory.path
            let first = try await activity(h, "first", script: Self.gatedScript(gates))
            file.write([first])
            let (supervisor, running) = try await start(h, file)
            let long = try await h.admin.submitTask(activityArn: first.arn, input: #"{"long":1}"#)
            #expect(try await waitUntil(timeout: .seconds(20)) { started(gates) == 1 })

            let second = try await activity(h, "second", script: "cat")
            file.write([first, second])
            #expect(await reload(supervisor, h))
            let reloading = try #require(h.notifier.history.first { $0.contains(.reloading) })
            #expect(reloading.contains { if case .monotonicTime = $0 { true } else { false } })
            #expect(h.notifier.history.last { $0.contains(.ready) } == [.ready, .status("1 running, 0 succeeded, 0 failed; 2 activities")])
            #expect(h.log.messages.contains("Activity added"))
            #expect(supervisor.pools.map(\.activity.name) == ["first", "second"])

            let quick = try await h.admin.submitTask(activityArn: second.arn, input: #"{"quick":2}"#)
            #expect(try await h.admin.task(quick, waitUpTo: .seconds(20)).output == #"{"quick":2}"#)
            #expect(try await h.admin.task(long).status == "STARTED")  // the reload left it alone
            touch(gates + "/gate")
            #expect(try await h.admin.task(long, waitUpTo: .seconds(20)).output == #"{"long":1}"#)
            supervisor.stop()
            await running.value
            #expect(supervisor.counters.succeeded == 2)
        }
    }

    @Test func aReloadRemovingAnActivityDrainsItAndItsRunningHandlerFinishes() async throws {
        try await withReloadHarness { h, file in
            let gates = h.directory.path
            let kept = try await activity(h, "kept", script: "cat")
            let removed = try await activity(h, "removed", script: Self.gatedScript(gates), extra: "concurrency = 2")
            file.write([kept, removed])
            let (supervisor, running) = try await start(h, file)
            let inFlight = try await h.admin.submitTask(activityArn: removed.arn, input: #"{"in":"flight"}"#)
            #expect(try await waitUntil(timeout: .seconds(20)) { started(gates) == 1 })

            file.write([kept])
            #expect(await reload(supervisor, h))
            #expect(h.log.messages.contains("Activity removed; draining it (running handlers finish)"))
            #expect(supervisor.pools.map(\.activity.name) == ["kept"])
            #expect(h.notifier.history.last { $0.contains(.ready) } == [.ready, .status("1 running, 0 succeeded, 0 failed; 1 activity")])

            // Its open poll returns on its own (1 s here) and none follows.
            #expect(try await waitUntil(timeout: .seconds(20)) { try await h.admin.stats().activities[removed.arn]?.openPolls == 0 })
            let late = try await h.admin.submitTask(activityArn: removed.arn)
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await h.admin.task(late).status == "SCHEDULED")

            #expect(try await h.admin.task(inFlight).status == "STARTED")
            touch(gates + "/gate")
            #expect(try await h.admin.task(inFlight, waitUpTo: .seconds(20)).output == #"{"in":"flight"}"#)
            // The retired pool's count stays in the totals once it is gone.
            #expect(await h.waitForNotification { $0 == "STATUS=0 running, 1 succeeded, 0 failed; 1 activity" })
            let keptTask = try await h.admin.submitTask(activityArn: kept.arn, input: "{}")
            #expect(try await h.admin.task(keptTask, waitUpTo: .seconds(20)).status == "SUCCEEDED")
            supervisor.stop()
            await running.value
            #expect(supervisor.counters.succeeded == 2)
        }
    }

    /// Grow from 1 to 3 while a task runs, then shrink to 1 while 3 run: no handler is
    /// interrupted, the handlers' own counts never exceed the capacity of the moment, and tasks
    /// received after each reload see its environment.
    @Test func aReloadResizesAPoolWhileItsTasksRun() async throws {
        try await withReloadHarness { h, file in
            let dir = h.directory.path
            let script = """
                mkdir -p \(dir)/running
                touch \(dir)/running/$$ \(dir)/started.$$
                ls \(dir)/running | wc -l >> \(dir)/counts-$PHASE
                while [ ! -e \(dir)/gate-$PHASE ]; do sleep 0.02; done
                sleep 0.05
                rm \(dir)/running/$$
                echo "\\"$PHASE\\""
                """
            var elastic = try await activity(h, "elastic", script: script, extra: "concurrency = 1\nenvironment = { PHASE = \"one\" }")
            file.write([elastic])
            let (supervisor, running) = try await start(h, file)
            var ids: [String] = []
            for _ in 0..<4 { ids.append(try await h.admin.submitTask(activityArn: elastic.arn)) }
            #expect(try await waitUntil(timeout: .seconds(20)) { started(dir) == 1 })

            elastic.extra = "concurrency = 3\nenvironment = { PHASE = \"three\" }"
            file.write([elastic])
            #expect(await reload(supervisor, h))
            #expect(try await waitUntil(timeout: .seconds(20)) { started(dir) == 3 })  // two more started at once
            #expect(supervisor.pools[0].pollerCount == 3)

            elastic.extra = "concurrency = 1\nenvironment = { PHASE = \"shrunk\" }"
            file.write([elastic])
            #expect(await reload(supervisor, h))
            for phase in ["one", "three"] { touch("\(dir)/gate-\(phase)") }
            for id in ids.prefix(3) {
                let state = try await h.admin.task(id, waitUpTo: .seconds(20))
                #expect(state.status == "SUCCEEDED", "\(state.error ?? "")")
            }
            touch("\(dir)/gate-shrunk")
            for _ in 0..<4 { ids.append(try await h.admin.submitTask(activityArn: elastic.arn)) }
            var outputs: [String] = []
            for id in ids { outputs.append(try await h.admin.task(id, waitUpTo: .seconds(20)).output ?? "none") }
            #expect(outputs == [#""one""#, #""three""#, #""three""#] + Array(repeating: #""shrunk""#, count: 5))
            #expect(try await waitUntil(timeout: .seconds(20)) { supervisor.pools[0].pollerCount == 1 })

            func peak(_ phase: String) throws -> Int {
                try String(contentsOfFile: "\(dir)/counts-\(phase)", encoding: .utf8)
                    .split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.max() ?? 0
            }
            #expect(try peak("one") == 1)
            #expect(try peak("three") <= 3)
            #expect(try peak("shrunk") == 1)
            supervisor.stop()
            await running.value
            #expect(supervisor.counters.succeeded == 8)
        }
    }

    @Test func aBrokenConfigurationIsRefusedAndTheRunningOneStays() async throws {
        try await withReloadHarness { h, file in
            let echo = try await activity(h, "echo", script: "cat")
            file.write([echo])
            let before = try file.load()
            let (supervisor, running) = try await start(h, file)

            var broken = echo
            broken.extra = "concurrency = \"lots\""
            file.write([broken])
            #expect(await reload(supervisor, h))
            let refusal = try #require(h.log.all.first { $0.message == "Reload refused: the configuration has problems; the running one stays" })
            #expect(refusal.level == .error)
            #expect(refusal.metadata["error"]?.contains("\(file.path):7: activity[0].concurrency") == true, "\(refusal.metadata)")
            #expect(supervisor.configuration == before)

            let id = try await h.admin.submitTask(activityArn: echo.arn, input: #"{"still":"served"}"#)
            #expect(try await h.admin.task(id, waitUpTo: .seconds(20)).output == #"{"still":"served"}"#)
            supervisor.stop()
            await running.value
        }
    }

    @Test func aChangeThatNeedsARestartRefusesTheWholeReload() async throws {
        try await withReloadHarness { h, file in
            let echo = try await activity(h, "echo", script: "cat")
            file.write([echo])
            let before = try file.load()
            let (supervisor, running) = try await start(h, file)

            let other = try await activity(h, "other", script: "cat")
            file.write([echo, other], header: "[aws]\nregion = \"eu-west-1\"\n")
            #expect(await reload(supervisor, h))
            let refusal = try #require(h.log.all.first { $0.message == "Reload refused; the running configuration stays" })
            #expect(refusal.metadata["reason"] == "changed settings need a restart (systemctl restart stepworker): aws.region")
            #expect(supervisor.pools.map(\.activity.name) == ["echo"])  // not even the new activity
            #expect(supervisor.configuration == before)
            supervisor.stop()
            await running.value
        }
    }

    @Test func aReloadWhileStoppingIsIgnored() async throws {
        try await withReloadHarness { h, file in
            let echo = try await activity(h, "echo", script: "cat")
            file.write([echo])
            let (supervisor, running) = try await start(h, file)
            supervisor.stop()
            supervisor.reload()
            await running.value
            let lines = h.notifier.assignments
            #expect(!lines.contains("RELOADING=1"))
            // Nothing may tell systemd the daemon is ready again once it said it is stopping.
            let stopping = try #require(lines.firstIndex(of: "STOPPING=1"))
            #expect(!lines[stopping...].contains("READY=1"), "\(lines)")
        }
    }
}
