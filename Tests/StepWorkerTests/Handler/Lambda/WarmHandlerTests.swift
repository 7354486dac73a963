import Foundation
import Logging
import StepWorker
import StepWorkerTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Warm handlers against real runtimes: the official awslambdaric (Python) and a curl shell
/// bootstrap, through `LambdaRunner` as the daemon uses it (reserve a process in `/next`, then
/// start the task), and the result through `TaskFate`.
@Suite(.timeLimit(.minutes(1)), .serialized)
struct WarmHandlerTests {
    static let arn = "arn:aws:states:eu-west-1:123456789012:activity:warm"

    struct Harness {
        let directory = TemporaryDirectory()
        let log = RecordingLogHandlerStore()
        let runner: LambdaRunner
        let activity: ActivityConfiguration
        /// The drain signal of the activity pool this harness stands for.
        let drain = DrainSignal()

        init(command: [String], extra: String = "", daemonEnvironment: [String: String] = [:]) throws {
            directory.write("app.py", LambdaRuntimeFixtures.handlerModule)
            directory.write("broken.py", LambdaRuntimeFixtures.brokenModule)
            let quoted = command.map { "\"\($0)\"" }.joined(separator: ", ")
            let toml = """
                [worker]
                name = "warm-test"
                state_directory = "\(directory.path)"
                [[activity]]
                arn = "\(WarmHandlerTests.arn)"
                command = [\(quoted)]
                protocol = "lambda"
                \(extra.contains("kill_grace") ? "" : #"kill_grace = "2s""#)
                \(extra)
                """
            activity = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/c.toml").activities[0]
            runner = LambdaRunner(workerName: "warm-test", daemonEnvironment: daemonEnvironment, logger: log.logger())
        }

        static func python(module: String = "app.handler", extra: String = "") throws -> Harness {
            try Harness(command: [LambdaRuntimeFixtures.venvPython, "-m", "awslambdaric", module], extra: extra)
        }

        /// One task as the daemon runs it: a reservation (a process waits in /next), then the task.
        func run(
            _ input: String, id: String = UUID().uuidString.lowercased(), activity: ActivityConfiguration? = nil
        ) async -> (HandlerRunResult, TaskResult?) {
            let activity = activity ?? self.activity
            let reservation = await runner.reserve(for: activity, until: drain)
            #expect(reservation != nil)
            let invocation = HandlerInvocation(
                activity: activity, workerName: "warm-test", taskID: id, input: Array(input.utf8), logger: log.logger(),
                daemonEnvironment: [:], unixTime: Int64(Date().timeIntervalSince1970))
            let result = await runner.start(invocation).result()
            return (result, TaskFate.decide(result, activity: activity).result)
        }

        func output(_ result: TaskResult?) throws -> [String: Any] {
            guard case .success(let output) = result else {
                Issue.record("not a success: \(String(describing: result))")
                return [:]
            }
            return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        }

        func pid(_ result: TaskResult?) throws -> Int {
            try #require(try output(result)["pid"] as? Int)
        }

        /// As an activity pool ends: drained, then its runner retires the activity.
        func stop() async {
            drain.drain()
            await runner.retire(activity)
            #expect(runner.warmProcessCount(for: activity) == 0)
        }
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func aReturnValueIsTheOutputAndTheProcessStaysWarm() async throws {
        let h = try Harness.python()
        let (_, first) = await h.run(#"{"n": 1}"#)
        let (_, second) = await h.run(#"{"n": 2}"#)
        #expect(try h.output(first)["echo"] as? [String: Int] == ["n": 1])
        #expect(try h.output(second)["echo"] as? [String: Int] == ["n": 2])
        #expect(try h.pid(first) == h.pid(second), "the second task ran in the same process")
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func aRaisedExceptionIsItsClassNameWithTheErrorBodyAsCause() async throws {
        let h = try Harness.python()
        let (run, result) = await h.run(#"{"kind": "raise", "n": 7}"#)
        #expect(run.termination == .functionError(type: "ValueError"))
        guard case .failure(let error, let cause) = result else {
            Issue.record("not a failure: \(String(describing: result))")
            return
        }
        #expect(error == "ValueError")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(cause.utf8)) as? [String: Any])
        #expect(body["errorType"] as? String == "ValueError")
        #expect(body["errorMessage"] as? String == "bad n: 7")
        // The process survives its function's exception.
        let (_, after) = await h.run(#"{"n": 8}"#)
        #expect(try h.output(after)["echo"] as? [String: Int] == ["n": 8])
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func aTaskPastItsTimeoutKillsTheProcessAndAFreshOneTakesTheNext() async throws {
        let h = try Harness.python(extra: #"timeout = "1s""#)
        let (_, before) = await h.run("{}")
        let clock = ContinuousClock()
        let started = clock.now
        let (run, result) = await h.run(#"{"kind": "sleep", "seconds": 30}"#)
        #expect(clock.now - started < .seconds(10))
        #expect(run.termination == .timedOut(limit: .seconds(1)))
        guard case .failure(let error, _) = result else { Issue.record("not a failure"); return }
        #expect(error == "Handler.Timeout")
        let (_, after) = await h.run("{}")
        #expect(try h.pid(after) != h.pid(before), "a fresh process replaced the killed one")
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func aTaskWhoseTokenIsGoneKillsItsProcessAndReportsNothing() async throws {
        let h = try Harness.python()
        let (_, before) = await h.run("{}")
        _ = await h.runner.reserve(for: h.activity, until: h.drain)
        let invocation = HandlerInvocation(
            activity: h.activity, workerName: "warm-test", taskID: "gone", input: Array(#"{"kind": "sleep", "seconds": 30}"#.utf8),
            logger: h.log.logger(), daemonEnvironment: [:], unixTime: 0)
        let handler = h.runner.start(invocation)
        // The reservation held a process in /next, so start() handed the task over at once; now
        // what a heartbeat that hears TaskTimedOut does:
        handler.terminate(.taskGone)
        let result = await handler.result()
        #expect(result.termination == .stopped(.taskGone))
        #expect(TaskFate.decide(result, activity: h.activity) == .forget)
        let (_, after) = await h.run("{}")
        #expect(try h.pid(after) != h.pid(before), "the process that ran the gone task was replaced")
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func aProcessThatDiesMidTaskFailsItAsCrashedAndIsReplaced() async throws {
        let h = try Harness.python()
        let (_, before) = await h.run("{}")
        let (run, result) = await h.run(#"{"kind": "exit"}"#)
        #expect(run.termination == .crashed(.exited(3)))
        guard case .failure(let error, let cause) = result else { Issue.record("not a failure"); return }
        #expect(error == "Handler.Crashed")
        #expect(cause.contains("exited with status 3"))
        #expect(cause.contains("dying now"), "the stderr tail is in the cause")
        let (_, after) = await h.run("{}")
        #expect(try h.pid(after) != h.pid(before))
        #expect(h.log.messages.contains("Restarting a warm process after backoff"))
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func anImportErrorKeepsThePollsClosedAndRetriesWithBackoff() async throws {
        let h = try Harness.python(module: "broken.handler")
        let drain = DrainSignal()
        let reservation = Task { await h.runner.reserve(for: h.activity, until: drain) }
        // Two init errors, the second after a backoff: the slot is retried...
        #expect(try await waitUntil(timeout: .seconds(20)) {
            h.log.all.filter { $0.message == "A warm process failed to initialize" }.count >= 2
        })
        let initError = try #require(h.log.all.first { $0.message == "A warm process failed to initialize" })
        #expect(initError.metadata["error"] == "Runtime.ImportModuleError")
        #expect(h.log.messages.contains("Restarting a warm process after backoff"))
        // ...and no poll was ever allowed: the reservation is still waiting until the drain.
        drain.drain()
        #expect(await reservation.value == nil)
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func theContextSeesTheDeadlineTheRequestIDAndTheARN() async throws {
        let h = try Harness.python(extra: #"timeout = "30s""#)
        let (_, result) = await h.run(#"{"kind": "remaining"}"#, id: "0123456789abcdef")
        let output = try h.output(result)
        let remaining = try #require(output["remaining"] as? Int)
        #expect((20_000...30_000).contains(remaining))
        #expect(output["request_id"] as? String == "0123456789abcdef")
        #expect(output["arn"] as? String == Self.arn)
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func theEnvironmentIsTheCleanOnePlusWhatLambdaRuntimesRead() async throws {
        let h = try Harness(
            command: [LambdaRuntimeFixtures.venvPython, "-m", "awslambdaric", "app.handler"],
            daemonEnvironment: ["AWS_ACCESS_KEY_ID": "AKIDDAEMON", "AWS_SECRET_ACCESS_KEY": "secret", "HOME": "/root"])
        let names = [
            "AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_REGION",
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "STEPWORKER_ACTIVITY_ARN", "STEPWORKER_TASK_ID", "PATH",
        ]
        let input = #"{"kind": "env", "names": [\#(names.map { "\"\($0)\"" }.joined(separator: ", "))]}"#
        let (_, result) = await h.run(input)
        let env = try h.output(result)
        #expect((env["AWS_LAMBDA_RUNTIME_API"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(env["AWS_LAMBDA_FUNCTION_NAME"] as? String == "warm")
        #expect(env["LAMBDA_TASK_ROOT"] as? String == h.directory.path)
        #expect(env["_HANDLER"] as? String == "app.handler")
        #expect(env["AWS_REGION"] as? String == "eu-west-1")
        #expect(env["STEPWORKER_ACTIVITY_ARN"] as? String == Self.arn)
        #expect(env["PATH"] as? String == "/usr/local/bin:/usr/bin:/bin")
        #expect(env["AWS_ACCESS_KEY_ID"] is NSNull, "never the daemon's credentials")
        #expect(env["AWS_SECRET_ACCESS_KEY"] is NSNull)
        #expect(env["STEPWORKER_TASK_ID"] is NSNull, "a warm process outlives its tasks")
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func stderrCarriesTheTasksFieldsWhileItRuns() async throws {
        let h = try Harness.python()
        _ = await h.run(#"{"kind": "log"}"#, id: "feedfacefeedface")
        // The stderr reader logs the line on its own; the run can return first.
        #expect(try await waitUntil { h.log.all.contains { $0.message == "a line from the task" } })
        let line = try #require(h.log.all.first { $0.message == "a line from the task" })
        #expect(line.metadata["STEPWORKER_TASK_ID"] == "feedfacefeedface")
        #expect(line.metadata["STEPWORKER_ACTIVITY"] == "warm")
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func aReloadThatChangesTheSettingsReplacesTheProcessAndResizesThePool() async throws {
        let h = try Harness.python(extra: #"environment = { MARK = "one" }"#)
        let ask = #"{"kind": "env", "names": ["MARK"]}"#
        let (_, first) = await h.run(ask)
        #expect(try h.output(first)["MARK"] as? String == "one")
        let (_, firstPID) = await h.run("{}")
        var reloaded = h.activity
        reloaded.environment["MARK"] = "two"
        reloaded.concurrency = 3
        let (_, second) = await h.run(ask, activity: reloaded)
        // On a loaded machine this once failed with Handler.Failed ("the runtime asked for its
        // next invocation without answering this one"): the replaced process's last /next was
        // still in flight on the slot's one listener and reached the new process's state. Each
        // process now has a listener of its own and a request from an earlier one is refused.
        #expect(try h.output(second)["MARK"] as? String == "two", "the new settings reached a new process")
        let (_, secondPID) = await h.run("{}", activity: reloaded)
        #expect(try h.pid(secondPID) != h.pid(firstPID))
        #expect(h.runner.warmProcessCount(for: reloaded) == 3)
        reloaded.concurrency = 1
        _ = await h.run("{}", activity: reloaded)
        #expect(h.runner.warmProcessCount(for: reloaded) == 1)
        await h.stop()
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func maxTasksPerProcessReplacesTheProcessBetweenTasks() async throws {
        let h = try Harness.python(extra: "max_tasks_per_process = 2")
        var pids: [Int] = []
        for n in 0..<5 { pids.append(try h.pid(await h.run(#"{"n": \#(n)}"#).1)) }
        #expect(pids[0] == pids[1])
        #expect(pids[1] != pids[2])
        #expect(pids[2] == pids[3])
        #expect(pids[3] != pids[4])
        await h.stop()
    }

    @Test func aCurlShellRuntimeWorksAndBadRequestsAreRefusedWithoutLosingTheTask() async throws {
        let directory = TemporaryDirectory()
        let bootstrap = directory.write("bootstrap", LambdaRuntimeFixtures.curlBootstrap, executable: true)
        let asRoot = getuid() == 0
        let extra = asRoot ? #"environment = { OTHER_UID_FOR_TEST = "65534" }"# : ""
        let h = try Harness(command: [bootstrap], extra: extra)
        for n in 0..<3 {
            let (_, result) = await h.run(#"{"n": \#(n)}"#, id: "task\(n)")
            let output = try h.output(result)
            #expect(output["shell"] as? [String: Int] == ["n": n])
            #expect(output["id"] as? String == "task\(n)")
            #expect(output["wrong"] as? String == "400", "a request id the process does not hold")
            #expect(output["missing"] as? String == "404")
            if asRoot {
                #expect(output["other"] as? String == "000", "a connection from another uid is closed unanswered")
            }
        }
        if asRoot {
            let refusal = h.log.all.first { $0.message == "Refused a Runtime API connection" }
            #expect(refusal?.metadata["reason"] == "otherUser(65534)", "\(h.log.all.map(\.message))")
        }
        await h.stop()
    }

    @Test(.enabled(if: getuid() == 0, "needs root, to run the warm process as another user"))
    func aProcessRunAsTheConfiguredUserIsTheOnlyOneItsListenerAdmits() async throws {
        let directory = TemporaryDirectory()
        chmod(directory.path, 0o755)
        let bootstrap = directory.write("bootstrap", LambdaRuntimeFixtures.curlBootstrap, executable: true)
        let h = try Harness(
            command: [bootstrap], extra: #"user = "nobody"\#nworking_directory = "\#(directory.path)""#)
        let (_, result) = await h.run(#"{"n": 1}"#)
        let output = try h.output(result)
        #expect(output["uid"] as? Int == 65534, "the process runs as nobody, and nobody's connections are admitted")
        #expect(output["shell"] as? [String: Int] == ["n": 1])
        // Root is another user to this listener: refused.
        let api = try #require(output["api"] as? String)
        let probe = HandlerInvocation(
            executablePath: "/usr/bin/curl",
            arguments: ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(api)/2018-06-01/runtime/invocation/next"],
            environment: ["PATH": "/usr/bin:/bin"], workingDirectory: "/", input: [], timeout: .seconds(10),
            killGrace: .seconds(1), maxOutput: 1024, logger: h.log.logger())
        let refused = await SubprocessRunner().run(probe)
        #expect(String(decoding: refused.stdout, as: UTF8.self) == "000")
        let refusal = h.log.all.first { $0.message == "Refused a Runtime API connection" }
        #expect(refusal?.metadata["reason"] == "otherUser(0)", "root is another user here: \(h.log.all.map(\.message))")
        // The process still serves its next task.
        let (_, next) = await h.run(#"{"n": 2}"#)
        #expect(try h.output(next)["shell"] as? [String: Int] == ["n": 2])
        await h.stop()
    }

    @Test func aRuntimeThatCannotStartFailsATaskThatWaitsForIt() async throws {
        let h = try Harness(command: ["/bin/sh", "-c", "echo cannot start >&2; exit 1"])
        let invocation = HandlerInvocation(
            activity: h.activity, workerName: "warm-test", taskID: "t", input: Array("{}".utf8), logger: h.log.logger(),
            daemonEnvironment: [:], unixTime: 0)
        // As `stepworker invoke` does: no reservation; the one process exits before /next.
        let result = await h.runner.start(invocation).result()
        guard case .launchFailed(let reason) = result.termination else {
            Issue.record("not a launch failure: \(result.termination)")
            return
        }
        #expect(reason.contains("before it asked for a task"))
        #expect(reason.contains("cannot start"))
        #expect(TaskFate.decide(result, activity: h.activity).result?.isFailure(named: "Handler.LaunchFailed") == true)
        await h.stop()
    }

    @Test func aRuntimeThatPostsAnInitErrorAndStaysIsEndedAndRetried() async throws {
        let directory = TemporaryDirectory()
        let bootstrap = directory.write("bootstrap", #"""
            #!/bin/sh
            curl -sS -X POST -H 'Lambda-Runtime-Function-Error-Type: Runtime.Custom' \
                -d '{"errorType":"Runtime.Custom","errorMessage":"no config"}' \
                "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error"
            exec sleep 60
            """#, executable: true)
        let h = try Harness(command: [bootstrap], extra: #"kill_grace = "200ms""#)
        let drain = DrainSignal()
        let reservation = Task { await h.runner.reserve(for: h.activity, until: drain) }
        #expect(try await waitUntil(timeout: .seconds(20)) {
            h.log.all.filter { $0.message == "A warm process failed to initialize" }.count >= 2
        })
        #expect(h.log.all.first { $0.message == "A warm process failed to initialize" }?.metadata["error"] == "Runtime.Custom")
        drain.drain()
        #expect(await reservation.value == nil, "no poll was allowed meanwhile")
        await h.stop()
    }

    @Test func aTaskStoppedBeforeAnyProcessTookItEndsAtOnce() async throws {
        let h = try Harness(command: ["/bin/sh", "-c", "sleep 30"])
        let invocation = HandlerInvocation(
            activity: h.activity, workerName: "warm-test", taskID: "t", input: Array("{}".utf8), logger: h.log.logger(),
            daemonEnvironment: [:], unixTime: 0)
        let handler = h.runner.start(invocation)
        handler.terminate(.taskGone)
        #expect(await handler.result().termination == .stopped(.taskGone))
        await h.stop()
    }
}

extension TaskResult {
    func isFailure(named name: String) -> Bool {
        if case .failure(let error, _) = self { return error == name }
        return false
    }
}
