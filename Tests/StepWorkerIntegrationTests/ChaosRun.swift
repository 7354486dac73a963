import Foundation
import StepFunctions
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit

#if canImport(Glibc)
import Glibc
#endif

/// An operator's crash drill with the real binary: start `stepworker run` on a state directory,
/// SIGKILL it at a seeded random moment, start it again on the same directory, and again, then
/// let the last run finish every task and stop it with SIGTERM; then account for every task
/// (`ChaosAccount`). With a `PowerCutFileSystem` holding the state directory, each kill is a
/// power cut: the daemon is frozen (SIGSTOP), the file system keeps only what was fsynced, the
/// daemon and its orphan handlers are killed, and the power comes back before the restart.
///
/// Every run's log stays in `directory` (`run-N.log`), which the caller keeps when a check fails.
/// `STEPWORKER_CHAOS_BINARY` runs another binary (another ledger), `STEPWORKER_CHAOS_WORKER_CONFIG`
/// adds lines to its `[worker]` table (docs/benchmark.md).
final class ChaosRun {
    let plan: ChaosPlan
    let admin: LocalAdminClient
    let endpointURL: String
    let directory: String
    let stateDirectory: String
    let powerCut: PowerCutFileSystem?
    /// How long after a kill a poll the dead daemon left open can still take a task.
    let deadPollLife: TimeInterval

    private var generator: SeededGenerator
    /// Handlers still running after the daemon that started them was killed.
    private(set) var orphans = 0
    private var lastLog = ""

    init(
        plan: ChaosPlan, session: LocalSession, pollSeconds: TimeInterval, directory: String, stateDirectory: String,
        powerCut: PowerCutFileSystem? = nil
    ) {
        self.plan = plan
        self.admin = session.admin
        self.endpointURL = session.server.baseURL
        self.directory = directory
        self.stateDirectory = stateDirectory
        self.powerCut = powerCut
        self.deadPollLife = pollSeconds + 1
        generator = SeededGenerator(seed: plan.seed)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the drill; the account of every task, and what the last, clean stop left behind.
    /// Tasks are submitted at a steady rate while the daemon is killed and restarted, so kills
    /// land while tasks arrive, run and are reported.
    func run() async throws -> (account: ChaosAccount, exitStatus: Int32?, leftovers: [String]) {
        let (plan, admin) = (self.plan, self.admin)
        let arns = try await (0..<plan.activities).asyncMap { try await admin.createActivity(name: "chaos-\($0)") }
        let handler = writeHandler()
        // About one second per kill (a restart plus the mean delay): spread the tasks over it.
        let perSecond = max(20, Double(plan.tasks) / (Double(plan.kills) + 1))
        async let submitted: Void = Self.submit(plan: plan, arns: arns, perSecond: perSecond, admin: admin)
        var exitStatus: Int32?
        var kills: [String: Date] = [:]
        for run in 0...plan.kills {
            let worker = "chaos-run-\(run)"
            let notify = try NotifySocket(path: "\(directory)/notify-\(run)")
            let config = writeConfiguration(arns: arns, handler: handler, worker: worker)
            let daemon = try start(config: config, log: "run-\(run).log", notify: notify.path)
            guard await notify.waitFor(timeout: .seconds(60), { $0 == "READY=1" }) else {
                Glibc.kill(daemon.processIdentifier, SIGKILL)
                daemon.waitUntilExit()
                throw Failure(description: "run \(run) never sent READY=1: \(lastLog)")
            }
            if run < plan.kills {
                try await pause(milliseconds: Int.random(in: plan.killDelay, using: &generator), notify: notify)
                kills[worker] = await killDaemon(daemon, notify: notify)
            } else {
                try await submitted
                let finished = try await waitUntil(timeout: .seconds(Int64(plan.heartbeatSeconds) + 120)) {
                    notify.collect()
                    return try await self.admin.tasks().allSatisfy(\.isFinished)
                }
                if !finished { print("chaos: not every task finished; stopping the last run anyway") }
                Glibc.kill(daemon.processIdentifier, SIGTERM)
                exitStatus = await DaemonProcessTests.waitForExit(daemon, notify: notify, timeout: .seconds(60))
            }
        }
        let starts = handlerStarts().reduce(into: [String: Int]()) { $0[$1.key, default: 0] += 1 }
        let tasks = try await admin.tasks().map { ChaosAccount.Task($0, starts: starts) }
        let account = ChaosAccount(tasks: tasks, kills: kills, window: plan.window, deadPollLife: deadPollLife)
        return (account, exitStatus, leftovers)
    }

    /// Submits the plan's tasks, `perSecond` of them a second, each to a random activity with a
    /// random handler run time: a third none at all (no `sleep`), the rest 5-120 ms.
    private static func submit(plan: ChaosPlan, arns: [String], perSecond: Double, admin: LocalAdminClient) async throws {
        var generator = SeededGenerator(seed: plan.seed ^ 0x5EED)
        let start = ContinuousClock.now
        for n in 0..<plan.tasks {
            try await Task.sleep(until: start + .milliseconds(Int64(Double(n) * 1000 / perSecond)), clock: .continuous)
            let arn = arns[Int.random(in: 0..<arns.count, using: &generator)]
            let milliseconds = Int.random(in: 0..<3, using: &generator) == 0 ? 0 : Int.random(in: 5...120, using: &generator)
            let sleep = milliseconds == 0 ? "0" : String(format: "%.3f", Double(milliseconds) / 1000)
            _ = try await admin.submitTask(
                activityArn: arn, input: ChaosInput.make(key: "t\(n)", sleep: sleep), heartbeatSeconds: plan.heartbeatSeconds)
        }
    }

    /// The kill: SIGKILL, or a power cut (freeze, cut, kill the daemon and its orphans, power
    /// on). Returns when the kill came.
    private func killDaemon(_ daemon: Process, notify: NotifySocket) async -> Date {
        let pid = daemon.processIdentifier
        if let powerCut {
            Glibc.kill(pid, SIGSTOP)
            _ = try? await waitUntil(timeout: .seconds(5)) { Self.isStopped(pid) }
            powerCut.cut()
        }
        let killed = Date()
        Glibc.kill(pid, SIGKILL)
        _ = await DaemonProcessTests.waitForExit(daemon, notify: notify, timeout: .seconds(30))
        for start in handlerStarts() where start.parent == pid && !processIsGone(start.pid) {
            orphans += 1
            if powerCut != nil { Glibc.kill(-start.pid, SIGKILL) }
        }
        powerCut?.powerOn()
        return killed
    }

    /// Waits `milliseconds` of real time (the random moment of a kill), reading `notify` meanwhile.
    private func pause(milliseconds: Int, notify: NotifySocket) async throws {
        let end = ContinuousClock.now + .milliseconds(milliseconds)
        while ContinuousClock.now < end {
            notify.collect()
            try await Task.sleep(for: min(.milliseconds(10), end - ContinuousClock.now))
        }
    }

    /// Every thread of `pid` stopped (or the process gone).
    private static func isStopped(_ pid: pid_t) -> Bool {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return true }
        return threads.allSatisfy { thread in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return true }
            return "TtZX".contains(stat[stat.index(close, offsetBy: 2)])
        }
    }

    /// The handlers' start lines: `PID PPID INPUT`.
    private func handlerStarts() -> [(pid: pid_t, parent: pid_t, key: String)] {
        lines(of: "\(directory)/starts").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard fields.count == 4, let pid = pid_t(fields[0]), let parent = pid_t(fields[1]),
                let key = ChaosInput.key(of: fields[3])
            else { return nil }
            return (pid, parent, key)
        }
    }

    /// Every `STEPWORKER_INFLIGHT_US` the runs logged (the daemon's own measure of the window:
    /// poll answer received to `inflight/` record durable), in microseconds, sorted.
    var inflightWindows: [Double] {
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("run-") }
        return logs.flatMap { lines(of: "\(directory)/\($0)") }.compactMap { line -> Double? in
            guard line.contains("Task timing"), let range = line.range(of: "STEPWORKER_INFLIGHT_US=") else { return nil }
            return Double(line[range.upperBound...].prefix { $0.isNumber })
        }.sorted()
    }

    /// What the ledger still keeps (tasks by fingerprint, files of an earlier layout, temporary
    /// and `*.corrupt` files).
    private var leftovers: [String] { LedgerJournal.kept(stateDirectory: stateDirectory) }

    /// The handler: notes its start (`PID PPID TASK_ID INPUT`), runs the input's `sleep`, echoes the input.
    private func writeHandler() -> String {
        let handler = "\(directory)/handler.sh"
        let script = """
            #!/bin/sh
            input=$(cat)
            echo "$$ $PPID $STEPWORKER_TASK_ID $input" >> \(directory)/starts
            s=${input#*\\"sleep\\":\\"}; s=${s%%\\"*}
            [ "$s" = 0 ] || sleep "$s"
            printf '%s' "$input"

            """
        _ = FileManager.default.createFile(atPath: handler, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        return handler
    }

    private func writeConfiguration(arns: [String], handler: String, worker: String) -> String {
        let extra = ProcessInfo.processInfo.environment["STEPWORKER_CHAOS_WORKER_CONFIG"] ?? ""
        let tables = arns.map { arn in
            """
            [[activity]]
            arn = "\(arn)"
            command = ["\(handler)"]
            concurrency = \(plan.concurrency)
            heartbeat = "2s"
            working_directory = "\(directory)"
            """
        }
        let file = "\(directory)/\(worker).toml"
        let text = """
            [aws]
            region = "us-east-1"
            endpoint = "\(endpointURL)"
            [worker]
            name = "\(worker)"
            state_directory = "\(stateDirectory)"
            shutdown_grace = "5s"
            log_level = "debug"
            \(extra)

            \(tables.joined(separator: "\n\n"))

            """
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }

    private func start(config: String, log: String, notify: String) throws -> Process {
        let process = Process()
        let binary = ProcessInfo.processInfo.environment["STEPWORKER_CHAOS_BINARY"] ?? RepositoryPaths.binary
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", config]
        process.environment = [
            "PATH": "/usr/bin:/bin", "HOME": directory, "NOTIFY_SOCKET": notify,
            "AWS_ACCESS_KEY_ID": DaemonProcessTests.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": DaemonProcessTests.credentials.secretAccessKey,
        ]
        let path = "\(directory)/\(log)"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        lastLog = path
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

extension Range where Bound == Int {
    /// `map` with an async body, in order.
    func asyncMap<T>(_ body: (Int) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await body(element)) }
        return results
    }
}
