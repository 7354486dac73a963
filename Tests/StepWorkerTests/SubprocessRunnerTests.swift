import Foundation
import Logging
import StepWorker
import StepWorkerTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real runner against real `/bin/sh` children.
@Suite("SubprocessRunner: real handlers", .timeLimit(.minutes(1)))
struct SubprocessRunnerTests {
    let directory = TemporaryDirectory()
    let log = RecordingLogHandlerStore()
    let runner = SubprocessRunner()

    func invocation(
        _ path: String, input: String = "{}", timeout: Duration? = nil, killGrace: Duration = .seconds(5),
        maxOutput: Int = 262_144, environment: [String: String] = ["PATH": "/usr/bin:/bin"]
    ) -> HandlerInvocation {
        HandlerInvocation(
            executablePath: path, arguments: [path], environment: environment, workingDirectory: directory.path,
            input: Array(input.utf8), timeout: timeout, killGrace: killGrace, maxOutput: maxOutput,
            logger: log.logger())
    }

    func run(_ script: String, input: String = "{}", rules: OutcomeRules = OutcomeRules()) async -> (HandlerRunResult, TaskResult?) {
        let result = await runner.run(invocation(directory.script(script), input: input))
        return (result, TaskFate.decide(result, rules: rules).result)
    }

    @Test func successEchoesInput() async {
        let (result, outcome) = await run("cat", input: #"{"n": 1}"#)
        #expect(result.termination == .exited(0))
        #expect(outcome == .success(output: #"{"n": 1}"#))
        #expect(result.processID != nil)
    }

    @Test func invalidJSON() async {
        let (_, outcome) = await run("echo 'not json'")
        guard case .failure(let error, let cause) = outcome else { Issue.record("expected failure"); return }
        #expect(error == "Handler.InvalidOutput")
        #expect(cause.hasSuffix("stdout starts with: not json"))
    }

    @Test func textOutput() async {
        let (_, outcome) = await run("printf 'line \"1\"\\n'", rules: OutcomeRules(output: .text))
        #expect(outcome == .success(output: #""line \"1\"\n""#))
    }

    @Test func exitCodes() async {
        let script = "echo 'resource busy' >&2; exit 75"
        let (result, mapped) = await run(script, rules: OutcomeRules(exitCodes: [75: "Resize.Retryable"]))
        #expect(result.termination == .exited(75))
        #expect(mapped == .failure(error: "Resize.Retryable", cause: "exit status 75; stderr:\nresource busy"))
        let (_, unmapped) = await run(script)
        #expect(unmapped == .failure(error: "Handler.Failed", cause: "exit status 75; stderr:\nresource busy"))
    }

    @Test func structuredError() async {
        let (_, outcome) = await run(#"echo '{"error": "Resize.BadImage", "cause": "not a PNG"}'; exit 1"#)
        #expect(outcome == .failure(error: "Resize.BadImage", cause: "not a PNG"))
    }

    @Test(arguments: [("SEGV", SIGSEGV, "SIGSEGV"), ("KILL", SIGKILL, "SIGKILL")])
    func signalDeath(name: String, signal: Int32, signalName: String) async {
        let (result, outcome) = await run("echo dying >&2; kill -\(name) $$")
        #expect(result.termination == .signalled(signal))
        #expect(outcome == .failure(error: "Handler.Killed", cause: "killed by \(signalName); stderr:\ndying"))
    }

    @Test func ownSessionAndProcessGroup() async throws {
        let (result, _) = await run("echo \"[$$, $(cut -d' ' -f5,6 /proc/$$/stat | tr ' ' ',')]\"")
        let ids = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [Int]
        let pid = try #require(result.processID)
        #expect(ids == [Int(pid), Int(pid), Int(pid)])
    }

    @Test func childrenGetDefaultSIGPIPE() async throws {
        let (result, _) = await run("grep SigIgn /proc/$$/status | cut -f2")
        let text = String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let ignored = try #require(UInt64(text, radix: 16))
        #expect(ignored & (1 << (UInt64(SIGPIPE) - 1)) == 0)
    }

    @Test func timeoutKillsTheWholeGroupIncludingATermIgnoringGrandchild() async throws {
        let pidFile = directory.path + "/grandchild.pid"
        let script = directory.script("""
            sh -c 'trap "" TERM; echo $$ > \(pidFile); exec sleep 300' &
            while [ ! -s \(pidFile) ]; do sleep 0.01; done
            echo started >&2
            sleep 300
            """)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await runner.run(invocation(script, timeout: .milliseconds(500), killGrace: .seconds(1)))
        let elapsed = clock.now - start
        #expect(result.termination == .timedOut(limit: .milliseconds(500)))
        #expect(elapsed < .seconds(5))
        #expect(result.stderrTail.contains("started"))
        let grandchild = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await waitUntil { processIsGone(grandchild) })
        #expect(TaskFate.decide(result, rules: OutcomeRules()).result
            == .failure(error: "Handler.Timeout", cause: "ran past its timeout of 500ms and was stopped; stderr:\nstarted"))
    }

    @Test func killGraceEndsALeaderThatIgnoresTERM() async {
        let script = directory.script("trap '' TERM; echo started >&2; while :; do sleep 0.05; done")
        let clock = ContinuousClock()
        let start = clock.now
        let result = await runner.run(invocation(script, timeout: .milliseconds(200), killGrace: .milliseconds(300)))
        #expect(result.termination == .timedOut(limit: .milliseconds(200)))
        #expect(clock.now - start >= .milliseconds(500))
        #expect(clock.now - start < .seconds(5))
    }

    @Test func orphansHoldingThePipesDieWhenTheLeaderExits() async throws {
        let pidFile = directory.path + "/orphan.pid"
        let script = directory.script("""
            sh -c 'echo $$ > \(pidFile); exec sleep 300' &
            while [ ! -s \(pidFile) ]; do sleep 0.01; done
            echo '{"done": true}'
            """)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await runner.run(invocation(script))
        #expect(clock.now - start < .seconds(5))
        #expect(TaskFate.decide(result, rules: OutcomeRules()).result == .success(output: #"{"done": true}"#))
        let orphan = try #require(pid_t(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await waitUntil { processIsGone(orphan) })
    }

    @Test func terminateStopsTheHandler() async {
        let handler = runner.start(invocation(directory.script("echo ready >&2; exec sleep 300")))
        #expect(await log.waitFor { $0 == "ready" })
        handler.terminate(.taskGone)
        handler.terminate(.shutdownGrace)  // the first reason is the one reported
        let result = await handler.result()
        #expect(result.termination == .stopped(.taskGone))
    }

    @Test func cancellingTheCallerStopsTheHandler() async {
        let script = directory.script("echo ready >&2; exec sleep 300")
        let task = Task { await runner.run(invocation(script)) }
        #expect(await log.waitFor { $0 == "ready" })
        task.cancel()
        #expect(await task.value.termination == .stopped(.cancelled))
    }

    @Test func tenMegabytesOfStdoutStayBounded() async {
        let before = residentSetSize()
        let script = directory.script("head -c 10485760 /dev/zero")
        let result = await runner.run(invocation(script, maxOutput: 262_144))
        #expect(result.termination == .exited(0))
        #expect(result.stdoutBytes == 10_485_760)
        #expect(result.stdout.count == 262_144)
        #expect(residentSetSize() - before < 50 << 20)
        #expect(TaskFate.decide(result, rules: OutcomeRules(maxOutput: 262_144)).result
            == .failure(error: "Handler.OutputTooLarge", cause: "stdout was 10485760 bytes, more than max_output (262144 bytes)"))
    }

    @Test func memoryStaysBoundedWhateverTheHandlerWrites() async {
        let before = residentSetSize()
        let result = await runner.run(invocation(directory.script("head -c 209715200 /dev/zero"), maxOutput: 262_144))
        #expect(result.stdoutBytes == 209_715_200)
        #expect(result.stdout.count == 262_144)
        #expect(residentSetSize() - before < 50 << 20, "200 MiB of stdout must not be held")
    }

    @Test func handlerThatNeverReadsItsInput() async {
        let input = "\"" + String(repeating: "a", count: 262_142) + "\""
        let (result, outcome) = await run("echo '{\"ignored\": true}'", input: input)
        #expect(result.termination == .exited(0))
        #expect(outcome == .success(output: #"{"ignored": true}"#))
    }

    @Test func writesAMegabyteBeforeReadingItsInput() async {
        let input = "\"" + String(repeating: "a", count: 262_142) + "\""
        let script = "head -c 1048576 /dev/zero | tr '\\0' 'x'; echo \"read $(wc -c | tr -d ' ')\" >&2"
        let result = await runner.run(invocation(directory.script(script), input: input))
        #expect(result.termination == .exited(0))
        #expect(result.stdoutBytes == 1_048_576)
        #expect(result.stderrTail == "read 262144\n")
    }

    @Test func stderrLinesGoToTheLogWithTheTaskMetadata() async throws {
        var invocation = invocation(directory.script("printf 'one\\nbad \\377\\376 bytes\\n'; printf 'two\\nthree' >&2; printf 'bad \\377 byte\\n' >&2"))
        invocation.logger[metadataKey: "STEPWORKER_TASK_ID"] = "t-1"
        let result = await runner.run(invocation)
        #expect(log.messages == ["two", "three" + "bad \u{FFFD} byte"])
        let entry = try #require(log.all.first)
        #expect(entry.metadata["STEPWORKER_TASK_ID"] == "t-1")
        #expect(entry.metadata["STEPWORKER_HANDLER_PID"] == result.processID.map(String.init))
        #expect(result.stderrTail == "two\nthreebad \u{FFFD} byte\n")
    }

    @Test func overlongStderrLinesAreSplit() async {
        _ = await run("head -c 20000 /dev/zero | tr '\\0' 'e' >&2")
        #expect(log.messages.map(\.count) == [8192, 8192, 3616])
    }

    @Test func missingExecutable() async {
        let result = await runner.run(invocation(directory.path + "/does-not-exist"))
        #expect(result.termination == .launchFailed("No such file or directory"))
        #expect(TaskFate.decide(result, rules: OutcomeRules()).result
            == .failure(error: "Handler.LaunchFailed", cause: "No such file or directory"))
    }

    @Test func nonExecutableFile() async {
        let path = directory.write("plain.sh", "#!/bin/sh\necho hi\n", executable: false)
        let result = await runner.run(invocation(path))
        #expect(result.termination == .launchFailed("Permission denied"))
    }

    @Test func missingWorkingDirectory() async {
        var invocation = invocation(directory.script("true"))
        invocation.workingDirectory = directory.path + "/nowhere"
        let result = await runner.run(invocation)
        guard case .launchFailed = result.termination else {
            Issue.record("expected a launch failure, got \(result.termination)")
            return
        }
    }

    @Test func theDaemonsEnvironmentNeverLeaks() async throws {
        setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak", 1)
        setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1)
        defer {
            unsetenv("AWS_SECRET_ACCESS_KEY")
            unsetenv("NOTIFY_SOCKET")
        }
        let toml = """
            [worker]
            name = "w1"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:dump"
            command = ["\(directory.script("env"))"]
            working_directory = "\(directory.path)"
            timeout = "10m"
            environment = { EXTRA = "yes", WIDE = "é 漢字 =x", EMPTY = "" }
            """
        let configuration = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/c.toml")
        let invocation = HandlerInvocation(
            activity: configuration.activities[0], workerName: "w1", taskID: "abc123", input: Array("{}".utf8),
            logger: log.logger(), daemonEnvironment: ProcessEnvironment.current(), unixTime: 1_000_000)
        let result = await runner.run(invocation)
        let lines = Set(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(!lines.contains { $0.hasPrefix("AWS_") || $0.hasPrefix("NOTIFY_SOCKET") })
        #expect(lines.isSuperset(of: [
            "PATH=/usr/local/bin:/usr/bin:/bin", "EXTRA=yes", "WIDE=é 漢字 =x", "EMPTY=", "STEPWORKER_TASK_ID=abc123", "STEPWORKER_WORKER_NAME=w1",
            "STEPWORKER_ACTIVITY_NAME=dump", "STEPWORKER_ACTIVITY_ARN=arn:aws:states:eu-west-1:123456789012:activity:dump",
            "STEPWORKER_DEADLINE=1000600",
        ]))
        #expect(lines.contains { $0.hasPrefix("HOME=") })
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func runsAsTheConfiguredUser() async throws {
        var invocation = invocation(directory.script("echo \"$(id -u) $(id -g) $(id -G)\""))
        chmod(directory.path, 0o755)
        invocation.workingDirectory = "/"
        invocation.identity = HandlerIdentity(user: "nobody", group: nil, userID: 65534, groupID: 65534, supplementaryGroups: [65534])
        let result = await runner.run(invocation)
        #expect(result.termination == .exited(0))
        #expect(String(decoding: result.stdout, as: UTF8.self) == "65534 65534 65534\n")
    }
}

