import Foundation
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit
import Testing

/// `stepworker run` with a `protocol = "lambda"` activity served by the official awslambdaric,
/// against the local endpoint: tasks succeed and fail as a Lambda state machine expects, the
/// processes stay warm, and a runtime that cannot start never takes a task.
@Suite("stepworker run: warm handlers", .timeLimit(.minutes(1)),
    .enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
struct DaemonWarmHandlerTests {
    func configuration(_ h: DaemonProcessTests.Harness, module: String) async throws -> (file: String, arn: String) {
        let arn = try await h.admin.createActivity(name: "warm")
        h.directory.write("app.py", LambdaRuntimeFixtures.handlerModule)
        h.directory.write("broken.py", LambdaRuntimeFixtures.brokenModule)
        let file = h.directory.write("stepworker.toml", """
            [aws]
            region = "us-east-1"
            endpoint = "\(h.server.baseURL)"
            [worker]
            state_directory = "\(h.directory.path)/state"
            shutdown_grace = "5s"
            [[activity]]
            arn = "\(arn)"
            command = ["\(LambdaRuntimeFixtures.venvPython)", "-m", "awslambdaric", "\(module)"]
            protocol = "lambda"
            concurrency = 2
            working_directory = "\(h.directory.path)"
            timeout = "20s"
            """)
        return (file, arn)
    }

    @Test func servesTasksWarmAndStopsItsProcessesOnSIGTERM() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await configuration(h, module: "app.handler")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")

            var ids: [String] = []
            for n in 0..<8 { ids.append(try await h.admin.submitTask(activityArn: arn, input: #"{"n":\#(n)}"#)) }
            let failing = try await h.admin.submitTask(activityArn: arn, input: #"{"kind":"raise","n":99}"#)
            var pids = Set<Int>()
            for (n, id) in ids.enumerated() {
                let state = try await h.finished(id, notify: notify)
                #expect(state.status == "SUCCEEDED", "\(state.error ?? "") \(h.daemonLog)")
                let output = try #require(try JSONSerialization.jsonObject(with: Data((state.output ?? "").utf8)) as? [String: Any])
                #expect(output["echo"] as? [String: Int] == ["n": n])
                if let pid = output["pid"] as? Int { pids.insert(pid) }
            }
            #expect(pids.count <= 2, "8 tasks ran in the 2 warm processes: \(pids)")
            let failed = try await h.finished(failing, notify: notify)
            #expect(failed.status == "FAILED")
            #expect(failed.error == "ValueError")
            #expect(failed.cause?.contains("bad n: 99") == true)

            #expect(await h.stop(process, notify: notify) == 0, "\(h.daemonLog)")
            for pid in pids { #expect(kill(pid_t(pid), 0) != 0, "warm process \(pid) outlived the daemon") }
            #expect(h.stateLeftovers.isEmpty)
        }
    }

    @Test func aRuntimeThatCannotInitializeNeverTakesATask() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await configuration(h, module: "broken.handler")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let id = try await h.admin.submitTask(activityArn: arn, input: "{}")
            // Both slots fail, are retried after a backoff and fail again...
            #expect(try await waitUntil(timeout: .seconds(20)) {
                notify.collect()
                return h.daemonLog.components(separatedBy: "A warm process failed to initialize").count > 4
            }, "\(h.daemonLog)")
            #expect(h.daemonLog.contains("Runtime.ImportModuleError"))
            // ...and no poll was opened meanwhile: the task was never handed out.
            #expect(try await h.admin.task(id).status == "SCHEDULED")
            #expect(await h.stop(process, notify: notify) == 0, "\(h.daemonLog)")
        }
    }

    @Test func sigtermLetsARunningWarmTaskFinishThenStopsTheProcesses() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await configuration(h, module: "app.handler")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let id = try await h.admin.submitTask(activityArn: arn, input: #"{"kind":"sleep","seconds":1.5}"#)
            // The function runs (its stderr line is in the journal): a task handed out but not yet
            // received would be refused by the drain, as for any handler.
            #expect(try await waitUntil(timeout: .seconds(20)) {
                notify.collect()
                return h.daemonLog.contains("sleeping")
            }, "\(h.daemonLog)")
            kill(process.processIdentifier, SIGTERM)
            #expect(await notify.waitFor { $0 == "STOPPING=1" })
            #expect(await h.stop(process, notify: notify) == 0, "\(h.daemonLog)")
            let state = try await h.admin.task(id)
            #expect(state.status == "SUCCEEDED", "drain let the warm task finish: \(state.error ?? "") \(state.cause ?? "") \(h.daemonLog)")
            let output = try #require(try JSONSerialization.jsonObject(with: Data((state.output ?? "").utf8)) as? [String: Any])
            let pid = try #require(output["pid"] as? Int)
            #expect(kill(pid_t(pid), 0) != 0, "the warm process is gone after the stop")
        }
    }
}
