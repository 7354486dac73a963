import Foundation
import StepFunctions
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit
import Testing

/// `stepworker run` as the built binary, against the local endpoint in this process, with a
/// notify socket standing in for systemd: READY, tasks done, SIGTERM drains and exits 0.
@Suite("stepworker run", .timeLimit(.minutes(1)))
struct DaemonProcessTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDDAEMON", secretAccessKey: "daemon-secret")

    struct Harness {
        var server: LocalEndpointServer
        var admin: LocalAdminClient
        var directory = TemporaryDirectory()

        /// Writes a configuration for one activity named `name` running `script`.
        func configuration(_ name: String, script: String, grace: String) async throws -> (file: String, arn: String) {
            let arn = try await admin.createActivity(name: name)
            let handler = directory.script(script, name: "\(name).sh")
            let file = directory.write("stepworker.toml", """
                [aws]
                region = "us-east-1"
                endpoint = "\(server.baseURL)"
                [worker]
                state_directory = "\(directory.path)/state"
                shutdown_grace = "\(grace)"
                [[activity]]
                arn = "\(arn)"
                command = ["\(handler)"]
                concurrency = 2
                """)
            return (file, arn)
        }

        /// Starts `stepworker run --config file` with AWS credentials in its environment and
        /// `NOTIFY_SOCKET` pointing at `notify`; its stderr goes to `daemon.log`. With
        /// `fileSizeLimit`, under that RLIMIT_FSIZE, and under any `limits` (`prlimit` options such
        /// as `--nofile=1024:1024`; util-linux's `prlimit` execs it: the process is the daemon's).
        func start(config: String, notify: NotifySocket?, fileSizeLimit: Int? = nil, limits: [String] = []) throws -> Process {
            let process = Process()
            let command = [RepositoryPaths.binary, "run", "--config", config]
            let limits = limits + (fileSizeLimit.map { ["--fsize=\($0)"] } ?? [])
            if !limits.isEmpty {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
                process.arguments = limits + ["--"] + command
            } else {
                process.executableURL = URL(fileURLWithPath: command[0])
                process.arguments = Array(command.dropFirst())
            }
            var environment = [
                "PATH": "/usr/bin:/bin", "HOME": directory.path,
                "AWS_ACCESS_KEY_ID": DaemonProcessTests.credentials.accessKeyID,
                "AWS_SECRET_ACCESS_KEY": DaemonProcessTests.credentials.secretAccessKey,
            ]
            environment["NOTIFY_SOCKET"] = notify?.path
            process.environment = environment
            let log = directory.write("daemon.log", "")
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }

        var daemonLog: String {
            (try? String(contentsOfFile: directory.path + "/daemon.log", encoding: .utf8)) ?? ""
        }
    }

    func withHarness(pollDuration: Duration = .seconds(1), _ body: (Harness) async throws -> Void) async throws {
        try await LocalSession.with(.init(credentials: Self.credentials, pollDuration: pollDuration)) { session in
            try await body(Harness(server: session.server, admin: session.admin))
        }
    }

    /// Waits for `process` to exit (without blocking a cooperative thread); nil on timeout.
    func exitStatus(_ process: Process, timeout: Duration = .seconds(30)) async -> Int32? {
        guard (try? await waitUntil(timeout: timeout) { !process.isRunning }) == true else {
            process.interrupt()
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    /// Runs `stepworker run --config file` until it exits (a start that fails): its exit status
    /// and everything it wrote on stderr.
    static func runUntilExit(config file: String, environment: [String: String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RepositoryPaths.binary)
        process.arguments = ["run", "--config", file]
        process.environment = environment
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func waitForFile(_ path: String) async throws {
        #expect(try await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: path) }, "no \(path)")
    }

    @Test func servesTasksAndDrainsOnSIGTERMLettingARunningHandlerFinish() async throws {
        try await withHarness { h in
            let marker = h.directory.path + "/started"
            let (config, arn) = try await h.configuration("daemon", script: "touch \(marker).$$; sleep 1; cat", grace: "5s")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            #expect(notify.assignments.contains("STATUS=0 running, 0 succeeded, 0 failed; 1 activity"))

            var ids: [String] = []
            for n in 0..<3 { ids.append(try await h.admin.submitTask(activityArn: arn, input: #"{"n":\#(n)}"#)) }
            for id in ids {
                let state = try await h.admin.task(id, waitUpTo: .seconds(20))
                #expect(state.status == "SUCCEEDED", "\(state.error ?? "") \(h.daemonLog)")
            }

            let last = try await h.admin.submitTask(activityArn: arn, input: #"{"last":true}"#)
            #expect(try await waitUntil(timeout: .seconds(20)) { try await h.admin.task(last).status == "STARTED" })
            try await Task.sleep(for: .milliseconds(100))  // the handler is sleeping
            kill(process.processIdentifier, SIGTERM)
            #expect(await notify.waitFor { $0 == "STOPPING=1" })
            kill(process.processIdentifier, SIGTERM)  // a second SIGTERM must not cut the drain short
            #expect(await exitStatus(process) == 0, "\(h.daemonLog)")
            let state = try await h.admin.task(last)
            #expect(state.status == "SUCCEEDED")
            #expect(state.output == #"{"last":true}"#)
            for id in ids + [last] {
                #expect(try await h.admin.task(id).status != "STARTED")
            }
            #expect(try await h.admin.stats().activities[arn]?.openPolls == 0)
            #expect(h.daemonLog.contains("Stop requested again"))
            #expect(!h.daemonLog.contains(Self.credentials.secretAccessKey))
        }
    }

    /// SIGTERM never aborts an open poll (a task handed to an aborted poll would be lost until
    /// it times out): the poll stays open, and the task it brings fails at once with
    /// `Worker.ShuttingDown` while a running handler still finishes. 10 s polls here, so the
    /// poll is surely open when the task comes.
    @Test func aTaskBroughtByAPollOpenAtSIGTERMFailsWithShuttingDown() async throws {
        try await withHarness(pollDuration: .seconds(10)) { h in
            let dir = h.directory.path
            let script = "touch \(dir)/started; while [ ! -e \(dir)/gate ]; do sleep 0.02; done; cat"
            let (config, arn) = try await h.configuration("open-poll", script: script, grace: "30s")
            let notify = try NotifySocket(path: dir + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let running = try await h.admin.submitTask(activityArn: arn, input: #"{"running":true}"#)
            try await waitForFile(dir + "/started")
            #expect(try await waitUntil(timeout: .seconds(20)) { try await h.admin.stats().activities[arn]?.openPolls == 1 })

            kill(process.processIdentifier, SIGTERM)
            #expect(await notify.waitFor { $0 == "STOPPING=1" })
            #expect(try await h.admin.stats().activities[arn]?.openPolls == 1, "the open poll was aborted")
            let late = try await h.admin.submitTask(activityArn: arn, input: #"{"late":true}"#)
            let refused = try await h.admin.task(late, waitUpTo: .seconds(20))
            #expect(refused.status == "FAILED")
            #expect(refused.error == "Worker.ShuttingDown")
            #expect(process.isRunning)  // still draining: the handler is running

            _ = FileManager.default.createFile(atPath: dir + "/gate", contents: nil)
            #expect(await Self.waitForExit(process, notify: notify, timeout: .seconds(30)) == 0, "\(h.daemonLog)")
            #expect(try await h.admin.task(running).output == #"{"running":true}"#)
            #expect(try await h.admin.stats().activities[arn]?.openPolls == 0)
            #expect(try await h.admin.tasks(status: "STARTED").isEmpty)
        }
    }

    @Test func aHandlerOutlivingTheShutdownGraceFailsWithShuttingDown() async throws {
        try await withHarness { h in
            let marker = h.directory.path + "/started"
            let (config, arn) = try await h.configuration("slow", script: "touch \(marker); exec sleep 30", grace: "300ms")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let id = try await h.admin.submitTask(activityArn: arn)
            try await waitForFile(marker)
            kill(process.processIdentifier, SIGTERM)
            #expect(await exitStatus(process) == 0, "\(h.daemonLog)")
            let state = try await h.admin.task(id)
            #expect(state.status == "FAILED")
            #expect(state.error == "Worker.ShuttingDown")
            #expect(await notify.waitFor(timeout: .seconds(1)) { $0 == "STOPPING=1" })
        }
    }

    @Test func aBadConfigurationExits78WithEveryProblem() async throws {
        let directory = TemporaryDirectory()
        let file = directory.write("bad.toml", """
            [worker]
            log_level = "loud"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:a"
            command = ["/nonexistent"]
            """)
        let (status, output) = try Self.runUntilExit(config: file, environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path])
        #expect(status == 78)
        #expect(output.contains("\(file):2: worker.log_level:"))
        #expect(output.contains("\(file):5: activity[0].command[0]: /nonexistent does not exist"))
    }

    @Test func noCredentialsExits1WithAClearMessage() async throws {
        let directory = TemporaryDirectory()
        let handler = directory.script("cat")
        let file = directory.write("ok.toml", """
            [aws]
            region = "us-east-1"
            endpoint = "http://127.0.0.1:9"
            [worker]
            state_directory = "\(directory.path)/state"
            [[activity]]
            arn = "arn:aws:states:us-east-1:123456789012:activity:a"
            command = ["\(handler)"]
            """)
        // IMDS and the container endpoint pointed at a closed port: nothing answers.
        let (status, output) = try Self.runUntilExit(config: file, environment: [
            "PATH": "/usr/bin:/bin", "HOME": directory.path, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
        ])
        #expect(status == 1, "\(output)")
        #expect(output.contains("no AWS credentials found"), "\(output)")
    }
}
