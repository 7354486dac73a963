import Foundation
import Logging
import StepWorker
import StepWorkerTestKit
import Testing

/// `stepworker check` and `stepworker invoke`, run as the built binary.
@Suite("stepworker check and invoke", .timeLimit(.minutes(1)))
struct CommandLineTests {
    let directory = TemporaryDirectory()
    let example = RepositoryPaths.root + "/etc/stepworker/stepworker.toml"

    struct Run {
        var status: HandlerTermination
        var stdout: String
        var stderr: [String]
    }

    /// Runs the binary through the handler runner itself: clean environment, bounded output.
    func stepworker(_ arguments: [String], input: String = "", environment: [String: String] = [:]) async -> Run {
        let log = RecordingLogHandlerStore()
        var base = ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]
        base.merge(environment) { $1 }
        let invocation = HandlerInvocation(
            executablePath: RepositoryPaths.binary, arguments: ["stepworker"] + arguments, environment: base,
            workingDirectory: directory.path, input: Array(input.utf8), timeout: .seconds(30),
            killGrace: .seconds(1), maxOutput: 1 << 20, logger: log.logger())
        let result = await SubprocessRunner().run(invocation)
        return Run(status: result.termination, stdout: String(decoding: result.stdout, as: UTF8.self), stderr: log.messages)
    }

    @Test func checkPrintsTheEffectiveConfiguration() async throws {
        let run = await stepworker(["check", "--config", example])
        #expect(run.status == .exited(0))
        #expect(run.stdout.contains("[[activity]]\narn = \"arn:aws:states:eu-west-1:123456789012:activity:resize-image\"\nname = \"resize-image\""))
        #expect(run.stdout.contains("kill_grace = \"10s\""))
        let reread = try ConfigurationLoader(host: TestHostFacts()).load(text: run.stdout, file: example)
        #expect(reread == (try ConfigurationLoader(host: TestHostFacts()).load(path: example)))
    }

    /// What the unit runs before every start and reload: silent when valid, problems when not.
    @Test func checkQuietPrintsNothingUnlessThereAreProblems() async {
        let valid = await stepworker(["check", "--quiet", "--config", example])
        #expect(valid.status == .exited(0))
        #expect(valid.stdout.isEmpty && valid.stderr.isEmpty)
        let file = directory.write("bad.toml", "[worker]\nlog_level = \"loud\"\n")
        let invalid = await stepworker(["check", "--quiet", "--config", file])
        #expect(invalid.status == .exited(78))
        #expect(invalid.stderr.contains { $0.hasPrefix("\(file):2: worker.log_level:") }, "\(invalid.stderr)")
    }

    /// Issue 32: a 10 MB value makes a problem line of a few hundred bytes that still names
    /// the file, the line and the key path (it was quoted whole: 10 MB on stderr).
    @Test func checkQuotesATenMegabyteValueUpToABound() async throws {
        let value = String(repeating: "v", count: 10 << 20)
        let file = directory.write("big.toml", """
            [worker]
            name = "w"
            state_directory = "\(value)"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:a"
            command = ["/bin/sh"]
            """)
        let run = await stepworker(["check", "--quiet", "--config", file])
        #expect(run.status == .exited(78))
        #expect(run.stderr == [
            "\(file):3: worker.state_directory: must be an absolute path, got \""
                + String(repeating: "v", count: 200) + "… (10485760 bytes)\"",
        ], "\(run.stderr.count) lines, \(run.stderr.map(\.utf8.count).reduce(0, +)) bytes")
    }

    @Test func checkReadsSTEPWORKER_CONFIG() async {
        let run = await stepworker(["check"], environment: ["STEPWORKER_CONFIG": example])
        #expect(run.status == .exited(0))
    }

    @Test func checkListsEveryProblemAndExits78() async {
        let file = directory.write("bad.toml", """
            [worker]
            log_level = "loud"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:a"
            command = ["/nonexistent"]
            concurrency = 0
            """)
        let run = await stepworker(["check", "--config", file])
        #expect(run.status == .exited(78))
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == [
            "\(file):2: worker.log_level: must be one of trace, debug, info, notice, warning, error, critical, got \"loud\"",
            "\(file):5: activity[0].command[0]: /nonexistent does not exist",
            "\(file):6: activity[0].concurrency: must be between 1 and 1000, got 0",
        ])
    }

    @Test func checkOfAMissingFile() async {
        let run = await stepworker(["check", "--config", directory.path + "/none.toml"])
        #expect(run.status == .exited(78))
        #expect(run.stderr == ["\(directory.path)/none.toml: cannot read: No such file or directory"])
    }

    @Test func invokeSucceeds() async throws {
        let inputFile = directory.write("in.json", #"{"width": 100, "height": 40}"#)
        let run = await stepworker(["invoke", "resize-image", "--config", example, "--input", inputFile])
        #expect(run.status == .exited(0))
        #expect(run.stdout == #"{"status":"SUCCEEDED","output":{"width": 50, "height": 20}}"# + "\n")
        #expect(run.stderr.contains("resize.py: 100x40"))
    }

    /// A relative `--config` and a relative handler path still find the handler after the
    /// runner has changed into a `working_directory` elsewhere.
    @Test func aRelativeConfigPathFindsTheHandlerFromAnotherWorkingDirectory() async {
        _ = directory.script(#"echo '{"ran":true}'"#, name: "handler.sh")
        directory.write("relative.toml", """
            [[activity]]
            arn = "arn:aws:states:us-east-1:123456789012:activity:relative"
            command = ["./handler.sh"]
            working_directory = "/"
            """)
        let run = await stepworker(["invoke", "relative", "--config", "relative.toml", "--input", "-"], input: "{}")
        #expect(run.stdout == #"{"status":"SUCCEEDED","output":{"ran":true}}"# + "\n")
        #expect(run.status == .exited(0))
    }

    /// The configuration `make demo` runs stays valid.
    @Test func checkAcceptsTheDemoConfiguration() async {
        let run = await stepworker(["check", "--config", RepositoryPaths.root + "/etc/stepworker/demo.toml"], environment: ["STATE_DIRECTORY": directory.path])
        #expect(run.status == .exited(0))
        #expect(run.stdout.contains("activity:demo-resize"))
    }

    @Test func invokeReadsStdin() async {
        let run = await stepworker(["invoke", "echo", "--config", example, "--input", "-"], input: #"{"x": 1}"#)
        #expect(run.status == .exited(0))
        #expect(run.stdout == #"{"status":"SUCCEEDED","output":{"echo": {"x": 1}, "activity": "echo"}}"# + "\n")
    }

    @Test func invokeReportsAFailureAndExits1() async throws {
        let run = await stepworker(["invoke", "resize-image", "--config", example, "--input", "-"], input: #"{"fail": true}"#)
        #expect(run.status == .exited(1))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: String])
        #expect(report == ["status": "FAILED", "error": "Resize.Failed", "cause": #"{"reason":"asked to fail","width":800}"#])
    }

    @Test func invokeWithABadConfigExits78() async {
        let file = directory.write("bad.toml", "[[activity]]\n")
        let run = await stepworker(["invoke", "x", "--config", file])
        #expect(run.status == .exited(78))
    }

    @Test func invokeOfAnUnknownActivity() async {
        let run = await stepworker(["invoke", "nope", "--config", example])
        #expect(run.status == .exited(64))
        #expect(run.stderr == [#"stepworker invoke: no activity named "nope" (configured: echo, resize-image)"#])
    }

    @Test func localEndpointRefusesARateLimitItCannotTakeAndNamesIt() async {
        let run = await stepworker(["local-endpoint", "--listen", "127.0.0.1:0", "--rate-limit", "GetActivityTask=120/20,Poll=1/1"])
        #expect(run.status == .exited(64))
        #expect(run.stderr.joined(separator: "\n").contains(#"--rate-limit: "Poll=1/1": unknown operation Poll"#), "\(run.stderr)")
    }

    @Test(.enabled(if: LambdaRuntimeFixtures.hasAwslambdaric, "\(LambdaRuntimeFixtures.awslambdaricMissing ?? "")"))
    func invokeRunsALambdaActivityInOneWarmProcess() async throws {
        directory.write("app.py", LambdaRuntimeFixtures.handlerModule)
        let file = directory.write("warm.toml", """
            [worker]
            state_directory = "\(directory.path)"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:warm"
            command = ["\(LambdaRuntimeFixtures.venvPython)", "-m", "awslambdaric", "app.handler"]
            protocol = "lambda"
            concurrency = 4
            """)
        let success = await stepworker(["invoke", "warm", "--config", file, "--input", "-"], input: #"{"n": 5}"#)
        #expect(success.status == .exited(0), "\(success.stderr)")
        #expect(success.stdout.hasPrefix(#"{"status":"SUCCEEDED","output":{"echo": {"n": 5}, "pid": "#), "\(success.stdout)")
        let failure = await stepworker(["invoke", "warm", "--config", file, "--input", "-"], input: #"{"kind": "raise", "n": 1}"#)
        #expect(failure.status == .exited(1))
        #expect(failure.stdout.hasPrefix(#"{"status":"FAILED","error":"ValueError","cause":"#), "\(failure.stdout)")
    }

    @Test func checkExplainsProtocolMistakesWithFileAndLine() async {
        let file = directory.write("protocol.toml", """
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:a"
            command = ["/bin/sh"]
            protocol = "lamda"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:b"
            command = ["/bin/sh"]
            max_tasks_per_process = 100
            """)
        let run = await stepworker(["check", "--config", file])
        #expect(run.status == .exited(78))
        #expect(run.stderr == [
            #"\#(file):4: activity[0].protocol: must be "stdio" or "lambda", got "lamda" (did you mean "lambda"?)"#,
            #"\#(file):8: activity[1].max_tasks_per_process: only applies to protocol = "lambda" (a stdio handler is one process per task)"#,
        ])
    }
}
