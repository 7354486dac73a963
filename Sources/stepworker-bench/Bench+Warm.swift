import Foundation
import Glibc
import StepFunctionsLocal

/// DESIGN section 7's warm-handler figure: one boto3-importing Python function, as `stdio` (one
/// process per task) and as `protocol = "lambda"` under awslambdaric, at the same concurrency
/// on the same endpoint, every output checked.
extension Bench {
    struct WarmRow {
        var label: String
        var tasks: Int
        var elapsed: Duration
        var daemonSeconds: Double
        var handlerSeconds: Double
        var rate: Double { Double(tasks) / elapsed.seconds }
    }

    /// The handler, both ways: `stdio_echo.py` reads stdin and writes it back; `warm_echo.handler`
    /// returns its event. Both import boto3 first, as a real handler would.
    static func writeWarmHandlers(in directory: String, python: String) throws -> String {
        try "#!\(python)\nimport boto3, sys\nsys.stdout.write(sys.stdin.read())\n"
            .write(toFile: directory + "/stdio_echo.py", atomically: true, encoding: .utf8)
        chmod(directory + "/stdio_echo.py", 0o755)
        try "import boto3\n\ndef handler(event, context):\n    return event\n"
            .write(toFile: directory + "/warm_echo.py", atomically: true, encoding: .utf8)
        return directory + "/stdio_echo.py"
    }

    mutating func warmComparison() async throws -> [WarmRow] {
        let python = options.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw BenchError("no Python at \(python) (--python PATH; scripts/python-venv.sh --bench makes .build/venv with awslambdaric and boto3)")
        }
        let directory = root + "/warm"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stdioScript = try Self.writeWarmHandlers(in: directory, python: python)
        let concurrency = options.warmConcurrency
        let stdio = Daemon.Activity(arn: Self.arn("bench"), command: stdioScript, concurrency: concurrency)
        let warm = Daemon.Activity(
            arn: Self.arn("bench"), command: python, concurrency: concurrency, arguments: ["-m", "awslambdaric", "warm_echo.handler"],
            extra: "protocol = \"lambda\"\nworking_directory = \"\(directory)\"")
        return [
            try await warmRun("stdio (one process per task)", stdio, tasks: options.warmStdioTasks, directory: directory + "/stdio"),
            try await warmRun("lambda (awslambdaric, warm)", warm, tasks: options.warmTasks, directory: directory + "/lambda"),
        ]
    }

    private func warmRun(_ label: String, _ activity: Daemon.Activity, tasks count: Int, directory: String) async throws -> WarmRow {
        let binary = options.binary
        return try await withEndpoint(activities: ["bench"]) { server in
            let daemon = try Daemon(
                binary: binary, directory: directory, endpoint: server.baseURL, activities: [activity], logLevel: "info")
            do {
                _ = try await daemon.waitReady()
                try await Self.waitForOpenPolls(server, count: activity.concurrency, daemon: daemon)
                _ = try await Self.runCheckedTasks(server.endpoint, arn: activity.arn, count: 2 * activity.concurrency)  // warm-up
                guard let before = ProcSnapshot.read(daemon.pid) else { throw BenchError("daemon gone") }
                let childrenBefore = Self.descendantTicks(of: daemon.pid)
                let started = ContinuousClock.now
                try await Self.runCheckedTasks(server.endpoint, arn: activity.arn, count: count)
                let elapsed = ContinuousClock.now - started
                let childrenAfter = Self.descendantTicks(of: daemon.pid)
                guard let after = ProcSnapshot.read(daemon.pid) else { throw BenchError("daemon gone") }
                await daemon.stop { await server.shutdown() }
                // Reaped children (stdio handlers) are in childTicks; live ones (warm processes) are
                // read from /proc: the same process before and after, so only what they did meanwhile.
                var live = 0
                for (pid, ticks) in childrenAfter { live += ticks - (childrenBefore[pid] ?? 0) }
                let ticks = ProcSnapshot.ticksPerSecond
                return WarmRow(
                    label: label, tasks: count, elapsed: elapsed,
                    daemonSeconds: Double(after.cpuTicks - before.cpuTicks) / ticks,
                    handlerSeconds: Double(after.childTicks - before.childTicks + live) / ticks)
            } catch {
                await daemon.stop { await server.shutdown() }
                throw error
            }
        }
    }

    /// Submits `count` tasks with distinct inputs and checks that each one succeeded with its own
    /// input as its output.
    @discardableResult
    static func runCheckedTasks(_ endpoint: LocalEndpoint, arn: String, count: Int) async throws -> Int {
        var ids: [(String, Int)] = []
        for n in 0..<count {
            ids.append((try await endpoint.submitTask(TaskSubmission(activityArn: arn, input: #"{"n":\#(n)}"#)), n))
        }
        for (id, n) in ids {
            guard let task = await endpoint.waitForTask(id: id, timeout: .seconds(300)), task.status == .succeeded else {
                throw BenchError("task \(id) did not succeed within 300 s")
            }
            guard let output = task.output,
                let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                object["n"] as? Int == n, object.count == 1
            else { throw BenchError("task \(id): output \(task.output ?? "none") is not its input {\"n\":\(n)}") }
        }
        return count
    }

    /// utime+stime of every child of `pid` alive now, by pid.
    static func descendantTicks(of pid: Int32) -> [Int32: Int] {
        var result: [Int32: Int] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for tid in tasks {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) {
                if let snapshot = ProcSnapshot.read(child) { result[child] = snapshot.cpuTicks }
            }
        }
        return result
    }

    func printWarm(_ rows: [WarmRow]) {
        var table = Table("handler", "conc", "tasks", "tasks/s", "daemon CPU/task", "handler CPU/task", "vs stdio", "target >=25x")
        let base = rows.first?.rate ?? 1
        for (index, row) in rows.enumerated() {
            let ratio = row.rate / base
            table.add(
                row.label, "\(options.warmConcurrency)", "\(row.tasks)", format(row.rate, 1),
                format(row.daemonSeconds / Double(row.tasks) * 1000, 2) + " ms",
                format(row.handlerSeconds / Double(row.tasks) * 1000, 1) + " ms", format(ratio, 1) + "x",
                index == 0 ? "" : (ratio >= 25 ? "met" : "missed"))
        }
        say("Warm handlers: a Python function that imports boto3 and echoes its input, through `stepworker run`,")
        say("as one process per task and as protocol = \"lambda\" with awslambdaric (\(options.python)); every")
        say("output checked against its input. CPU per task: daemon = its own utime+stime; handler = the handler")
        say("processes' (reaped ones, and the warm processes' own time during the run).")
        say(table.render())
        say("")
    }
}
