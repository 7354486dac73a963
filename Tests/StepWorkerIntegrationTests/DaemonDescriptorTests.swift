import Foundation
import NIOCore
import NIOPosix
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit
import Testing

/// The daemon at its descriptor limit, as issue 32 found it: idle `/metrics` connections and a
/// warm handler flooding its own listener each pinned the daemon at 1024 descriptors (every task
/// then failed `Handler.LaunchFailed`, and libdispatch's worker monitor trapped with SIGILL), and
/// `concurrency = 1000` could not run under the unit's soft limit of 1024.
@Suite("stepworker run: file descriptors", .timeLimit(.minutes(2)))
struct DaemonDescriptorTests {
    typealias Harness = DaemonProcessTests.Harness

    init() {
        // This process holds the other ends: the local endpoint's polls, the held connections.
        DescriptorLimit.raise()
    }

    /// Submits `count` tasks to `arn` and expects every one to succeed with its input echoed.
    static func expectTasksSucceed(_ h: Harness, arn: String, count: Int, notify: NotifySocket) async throws {
        var ids: [String] = []
        for n in 0..<count { ids.append(try await h.admin.submitTask(activityArn: arn, input: #"{"n":\#(n)}"#)) }
        var failed: [String] = []
        for (n, id) in ids.enumerated() {
            let state = try await h.finished(id, notify: notify, timeout: .seconds(60))
            if state.status != "SUCCEEDED" || state.output != #"{"n":\#(n)}"# { failed.append("\(n): \(state.status) \(state.cause ?? "")") }
        }
        #expect(failed.isEmpty, "\(failed.count) of \(count) tasks failed, first: \(failed.first ?? "")")
    }

    /// Appends a `[metrics]` table on a free loopback port to `config`; returns the port.
    static func addMetrics(to config: String) async throws -> Int {
        let port = try await DaemonMetricsTests.freePort()
        try (try String(contentsOfFile: config, encoding: .utf8) + "\n[metrics]\nlisten = \"127.0.0.1:\(port)\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        return port
    }

    /// Opens `count` TCP connections to 127.0.0.1:`port` and keeps those that connected.
    static func hold(_ count: Int, port: Int) async -> [any Channel] {
        var held: [any Channel] = []
        for _ in 0..<count {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get() {
                held.append(channel)
            }
        }
        return held
    }

    @Test func heldMetricsConnectionsDoNotStarveTasks() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await h.configuration("fd-metrics", script: "cat", grace: "5s")
            let port = try await Self.addMetrics(to: config)
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let daemon = try h.start(config: config, notify: notify, limits: ["--nofile=1024:1024"])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            try #require(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let held = await Self.hold(1500, port: port)
            #expect(held.count == 1500)
            // Over the cap, the daemon closes them: no more than its 16 stay open.
            #expect(try await waitUntil(timeout: .seconds(20)) { held.filter(\.isActive).count <= MetricsServer.maxConnections },
                "\(held.filter(\.isActive).count) connections still open")
            try await Self.expectTasksSucceed(h, arn: arn, count: 20, notify: notify)
            for channel in held { try? await channel.close() }
            let scrape = try await HTTPScrape.request("http://127.0.0.1:\(port)/metrics")
            #expect(scrape.status == 200)
            #expect(h.daemonLog.components(separatedBy: "Refused a metrics connection").count <= 3, "refusals are logged at a bounded rate")
            #expect(await h.stop(daemon, notify: notify) == 0, "\(h.daemonLog)")
        }
    }

    /// A warm runtime that opens a thousand connections to its own listener gets four; another
    /// activity's tasks run as usual and the daemon stays up (it died with SIGILL before).
    @Test func aWarmHandlerFloodingItsListenerCannotTakeTheDaemonsDescriptors() async throws {
        try await DaemonProcessTests.withHarness { h in
            let marker = h.directory.path + "/hog-connected"
            let hog = h.directory.write("hog.py", """
                import os, socket, sys, time
                host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
                held = []
                for i in range(1000):
                    s = socket.socket()
                    try:
                        s.connect((host, int(port)))
                        held.append(s)
                    except OSError:
                        s.close()
                open(sys.argv[1], "w").write(str(len(held)))
                time.sleep(600)
                """)
            let (config, arns) = try await h.configuration(activities: [
                .init(name: "hog", script: "", concurrency: 2, extra: #"protocol = "lambda""#, command: ["/usr/bin/python3", hog, marker]),
                .init(name: "plain", script: "cat", concurrency: 4),
            ])
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let daemon = try h.start(config: config, notify: notify, limits: ["--nofile=1024:1024"])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            try #require(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            #expect(try await waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: marker) }, "\(h.daemonLog)")
            try await Self.expectTasksSucceed(h, arn: arns[1], count: 30, notify: notify)
            #expect(daemon.isRunning, "\(h.daemonLog)")
            let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.processIdentifier)/fd").count
            #expect(open < 200, "the daemon holds \(open) descriptors")
            #expect(await h.stop(daemon, notify: notify) == 0, "\(h.daemonLog)")
        }
    }

    /// The daemon raises its own soft limit, but its handlers keep the one it was started with
    /// (programs that size a select() set or close every descriptor by it stay fast).
    @Test func handlersKeepTheSoftLimitTheDaemonWasStartedWith() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await h.configuration("fd-soft", script: #"cat >/dev/null; printf '{"soft": %s}' "$(ulimit -Sn)""#, grace: "5s")
            let hard = DescriptorLimit.current().hard
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let daemon = try h.start(config: config, notify: notify, limits: ["--nofile=1024:\(hard)"])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            try #require(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let id = try await h.admin.submitTask(activityArn: arn, input: "{}")
            let state = try await h.finished(id, notify: notify, timeout: .seconds(20))
            #expect(state.output == #"{"soft": 1024}"#, "\(state)")
            let limits = try String(contentsOfFile: "/proc/\(daemon.processIdentifier)/limits", encoding: .utf8)
            #expect(limits.split(separator: "\n").contains { $0.hasPrefix("Max open files") && $0.contains("\(hard)") && !$0.contains("1024") })
            #expect(await h.stop(daemon, notify: notify) == 0, "\(h.daemonLog)")
        }
    }

    /// `stepworker check` says when the configuration may need more descriptors than the hard
    /// limit (the daemon's soft limit once raised), and still accepts the file.
    @Test func checkSaysWhenTheLimitIsTooLow() async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("stepworker.toml", """
            [worker]
            state_directory = "\(directory.path)/state"
            [[activity]]
            arn = "arn:aws:states:us-east-1:123456789012:activity:wide"
            command = ["/bin/cat"]
            concurrency = 1000
            """)
        func check(nofile: String) throws -> (status: Int32, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            process.arguments = ["--nofile=\(nofile)", "--", RepositoryPaths.binary, "check", "--quiet", "--config", config]
            let errors = directory.write("check.err", "")
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try process.run()
            process.waitUntilExit()
            return (process.terminationStatus, try String(contentsOfFile: errors, encoding: .utf8))
        }
        let low = try check(nofile: "1024:1024")
        #expect(low.status == 0)
        #expect(low.stderr.hasPrefix("\(config): warning: the configuration may hold up to "), "\(low.stderr)")
        #expect(low.stderr.contains("but the limit is 1024"), "\(low.stderr)")
        #expect(low.stderr.contains("the daemon would run wide: concurrency 1000 -> "), "\(low.stderr)")
        let hard = DescriptorLimit.current().hard
        let enough = try check(nofile: "1024:\(hard)")
        #expect(enough.status == 0)
        #expect(enough.stderr.isEmpty || hard < 12_000, "\(enough.stderr)")
    }

    /// The daemon at its very limit (`--nofile=40:40`, 16 held `/metrics` connections on top of
    /// its own): polls fail with EMFILE and handler starts hit the reserve, and it neither traps
    /// (libdispatch's monitor did, with SIGILL) nor loses a task; once the connections go, tasks
    /// run again.
    @Test func theDaemonSurvivesReachingItsLimit() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await h.configuration("fd-limit", script: "cat", grace: "5s")
            let port = try await Self.addMetrics(to: config)
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let daemon = try h.start(config: config, notify: notify, limits: ["--nofile=40:40"])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            try #require(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let held = await Self.hold(MetricsServer.maxConnections, port: port)
            let descriptors = { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.processIdentifier)/fd").count) ?? 0 }
            #expect(try await waitUntil(timeout: .seconds(10)) { descriptors() >= 34 }, "\(descriptors()) open")
            var ids: [String] = []
            for n in 0..<10 { ids.append(try await h.admin.submitTask(activityArn: arn, input: #"{"n":\#(n)}"#)) }
            let starved = try await waitUntil(timeout: .seconds(20)) {
                notify.collect()
                return h.daemonLog.contains("Too many open files") || h.daemonLog.contains("Cannot start handlers")
            }
            #expect(starved, "the limit was reached: \(h.daemonLog.suffix(2000))")
            #expect(daemon.isRunning, "\(h.daemonLog.suffix(2000))")
            for channel in held { try? await channel.close() }
            var other: [String] = []
            for id in ids {
                let state = try await h.finished(id, notify: notify, timeout: .seconds(60))
                if state.status != "SUCCEEDED" && state.error != "Handler.LaunchFailed" { other.append("\(state.status) \(state.error ?? "")") }
            }
            #expect(other.isEmpty, "every task ran or could not start, none lost: \(other)")
            try await Self.expectTasksSucceed(h, arn: arn, count: 5, notify: notify)
            #expect(await h.stop(daemon, notify: notify) == 0, "\(h.daemonLog.suffix(2000))")
        }
    }

    /// A configuration far beyond a small limit (`--nofile=200:200`, 100 slots and 10 pollers):
    /// the daemon says so and runs the slots that fit (7, with 1 poller) instead of polling for
    /// tasks it could not start (before, its polls took every descriptor and each task it received
    /// failed `Handler.LaunchFailed`). Every task succeeds and the daemon stops cleanly.
    @Test func aConfigurationBeyondTheLimitRunsTheSlotsThatFit() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arns) = try await h.configuration(activities: [
                .init(name: "wide", script: "sleep 0.2; cat", concurrency: 100, pollers: 10)
            ])
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let daemon = try h.start(config: config, notify: notify, limits: ["--nofile=200:200"])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            try #require(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            #expect(h.daemonLog.contains("Too few file descriptors for this configuration; running fewer slots"))
            #expect(h.daemonLog.contains("wide: concurrency 100 -> 7, pollers 10 -> 1"), "\(h.daemonLog)")
            try await Self.expectTasksSucceed(h, arn: arns[0], count: 60, notify: notify)
            #expect(!h.daemonLog.contains("Cannot start handlers"), "\(h.daemonLog)")
            #expect(await h.stop(daemon, notify: notify) == 0, "\(h.daemonLog)")
        }
    }

    /// `concurrency = 1000`, the top of the documented range, under systemd's soft limit of
    /// 1024 (systemd's hard limit is 524288; this sandbox's hard limit is what it can give): the
    /// daemon raises its soft limit and every task succeeds.
    @Test func aThousandSlotsRunUnderASoftLimitOf1024() async throws {
        try await LocalSession.with(.init(credentials: DaemonProcessTests.credentials, pollDuration: .seconds(5))) { session in
            let h = Harness(server: session.server, admin: session.admin)
            let (config, arns) = try await h.configuration(activities: [.init(name: "wide", script: "cat", concurrency: 1000)])
            let hard = DescriptorLimit.current().hard
            let needed = DescriptorBudget(try ConfigurationLoader().load(path: config)).total
            try #require(hard >= UInt64(needed), "this machine's hard limit (\(hard)) is below the \(needed) the test needs")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let daemon = try h.start(config: config, notify: notify, limits: ["--nofile=1024:\(hard)"])
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            try #require(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            try await Self.expectTasksSucceed(h, arn: arns[0], count: 300, notify: notify)
            let limits = try String(contentsOfFile: "/proc/\(daemon.processIdentifier)/limits", encoding: .utf8)
            let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
            #expect(line.split(separator: " ").filter { $0 == "\(hard)" }.count == 2, "soft raised to hard: \(line)")
            #expect(await h.stop(daemon, notify: notify, timeout: .seconds(60)) == 0, "\(h.daemonLog)")
        }
    }
}
