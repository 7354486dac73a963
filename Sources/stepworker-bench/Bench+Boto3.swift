import Foundation
import Glibc
import StepFunctionsLocal

/// Issue 12's comparison rows: the same `/bin/cat` tasks through the typical boto3 worker
/// (scripts/boto3-worker.py, shared with `make bench-fleet`) against the same kind of endpoint,
/// in the same run, next to `stepworker run`.
extension Bench {
    struct Boto3Result {
        var tasks: Int
        var elapsed: Duration
        /// The worker process's own utime+stime: its handlers are children it waited for
        /// (cutime+cstime), left out as the daemon's are.
        var cpuSeconds: Double
        var rate: Double { Double(tasks) / elapsed.seconds }
        var cpuPerTask: Double { cpuSeconds / Double(tasks) }
    }

    /// Why the boto3 rows cannot run, or nil when they can.
    func boto3Missing() -> String? {
        guard FileManager.default.isExecutableFile(atPath: options.python) else {
            return "no Python at \(options.python) (--python PATH; scripts/python-venv.sh --bench puts boto3 in .build/venv)"
        }
        guard FileManager.default.fileExists(atPath: options.boto3Worker) else {
            return "no boto3 worker script at \(options.boto3Worker) (--boto3-worker PATH)"
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: options.python)
        probe.arguments = ["-c", "import boto3"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
            probe.waitUntilExit()
        } catch {
            return "\(options.python) does not start: \(error)"
        }
        return probe.terminationStatus == 0 ? nil : "\(options.python) cannot import boto3 (scripts/python-venv.sh --bench installs it)"
    }

    /// `/bin/cat` through the boto3 worker with `concurrency` polling threads, default heartbeat
    /// thread per task (60 s, as the daemon's default heartbeat), after `2 x concurrency` warm-up tasks.
    func boto3Throughput(concurrency: Int, tasks count: Int) async throws -> Boto3Result {
        let directory = root + "/boto3-\(concurrency)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let python = options.python
        let script = options.boto3Worker
        return try await withEndpoint(activities: ["bench"]) { server in
            let arn = Self.arn("bench")
            let worker = Process()
            worker.executableURL = URL(fileURLWithPath: python)
            worker.arguments = [
                script, "--endpoint", server.baseURL, "--name", "boto3-bench", "--pollers", "\(concurrency)",
                "--activity", arn, "/bin/cat", "60",
            ]
            worker.environment = [
                "PATH": "/usr/bin:/bin", "HOME": directory, "AWS_ACCESS_KEY_ID": Daemon.accessKeyID,
                "AWS_SECRET_ACCESS_KEY": Daemon.secretAccessKey, "AWS_REGION": "us-east-1",
            ]
            let logPath = directory + "/worker.log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            worker.standardOutput = log
            worker.standardError = log
            worker.standardInput = FileHandle.nullDevice
            try worker.run()
            // SIGKILL: the worker keeps nothing, and a child of this process may start with
            // SIGTERM blocked (Foundation's spawn keeps the signal mask of the thread that spawned it).
            func stop() {
                kill(worker.processIdentifier, SIGKILL)
                worker.waitUntilExit()
                try? log.close()
            }
            do {
                let end = ContinuousClock.now.advanced(by: .seconds(60))
                while await server.endpoint.stats().activities.values.map(\.openPolls).reduce(0, +) < concurrency {
                    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                    guard worker.isRunning else { throw BenchError("the boto3 worker exited (\(worker.terminationStatus)); its log:\n\(text)") }
                    guard ContinuousClock.now < end else { throw BenchError("the boto3 worker opened fewer than \(concurrency) polls in 60 s; its log:\n\(text)") }
                    try await Task.sleep(for: .milliseconds(20))
                }
                _ = try await Self.runTasks(server.endpoint, arn: arn, count: 2 * concurrency)  // warm-up
                guard let before = ProcSnapshot.read(worker.processIdentifier) else { throw BenchError("boto3 worker gone") }
                let started = ContinuousClock.now
                let tasks = try await Self.runTasks(server.endpoint, arn: arn, count: count)
                let elapsed = ContinuousClock.now - started
                guard let after = ProcSnapshot.read(worker.processIdentifier) else { throw BenchError("boto3 worker gone") }
                stop()
                let failed = tasks.filter { $0.status != .succeeded }.count
                if failed > 0 { say("  warning: \(failed) of \(count) boto3 tasks did not succeed") }
                return Boto3Result(
                    tasks: count, elapsed: elapsed, cpuSeconds: Double(after.cpuTicks - before.cpuTicks) / ProcSnapshot.ticksPerSecond)
            } catch {
                stop()
                throw error
            }
        }
    }

    /// The comparison table: ours at `concurrency` (ext4 and tmpfs rows of the throughput table)
    /// against boto3's, with the ratios and issue 12's targets (>= 5x its tasks/s, <= 1/10 of its CPU per task).
    func printBoto3(_ boto3: Boto3Result, ours: [(label: String, row: ThroughputResult)], concurrency: Int) {
        var table = Table("worker (/bin/cat, conc \(concurrency))", "tasks", "tasks/s", "x boto3", "target >=5x", "CPU/task", "of boto3", "target <=1/10")
        table.add("boto3 (scripts/boto3-worker.py)", "\(boto3.tasks)", format(boto3.rate, 0), "1.0x", "", format(boto3.cpuPerTask * 1000, 2) + " ms", "1", "")
        for (label, row) in ours {
            let speed = row.rate / boto3.rate
            let cpu = row.daemonCPU / 100 / row.rate
            let share = cpu / boto3.cpuPerTask
            table.add(
                label, "\(row.tasks)", format(row.rate, 0), format(speed, 1) + "x", speed >= 5 ? "met" : "missed",
                format(cpu * 1000, 2) + " ms", "1/" + format(1 / share, 1), share <= 0.1 ? "met" : "missed")
        }
        say("Against the typical boto3 worker (\(options.python)): \(concurrency) threads each long-polling get_activity_task,")
        say("subprocess.run per task, a heartbeat thread per task (60 s), botocore's standard retry mode, against the")
        say("same in-process endpoint. CPU/task is the worker process's own utime+stime (/proc/PID/stat): the handlers")
        say("are children it waited for (cutime), left out exactly as for the daemon.")
        say(table.render())
        say("")
    }
}
