import Foundation
import Glibc
import StepFunctions
import StepFunctionsLocal

/// The endpoint's clock: wall time at start plus monotonic time since, so task timestamps
/// (`startedAt` when a poll took the task, `finishedAt` when its result arrived) are monotonic.
let clockBase = (wall: Date(), monotonic: ContinuousClock.now)

@Sendable func monotonicDate() -> Date {
    clockBase.wall.addingTimeInterval((ContinuousClock.now - clockBase.monotonic).seconds)
}

/// `make bench` (DESIGN section 7, docs/benchmark.md): runs the real `stepworker run` against
/// the local endpoint in this process and prints throughput next to the bare spawn rate,
/// per-task overhead, idle CPU and memory with 64 open polls, and time to READY=1.
@main
struct Bench {
    struct Options {
        var binary: String
        var concurrencies = [1, 4, 16]
        var spawnSeconds = 2.0
        /// Tasks per throughput run: this many seconds' worth at the bare spawn rate.
        var taskSeconds = 2.0
        var overheadTasks = 300
        var idleSeconds = 30.0
        /// The warm-handler comparison (`--warm only` runs just that; `--warm off` skips it).
        var warm = "on"
        var python = ""
        var warmConcurrency = 8
        var warmStdioTasks = 100
        var warmTasks = 2000
        /// The comparison rows against the typical boto3 worker (`--boto3 off` skips them).
        var boto3 = "on"
        var boto3Worker = ""
        var boto3Tasks = 1000

        init(_ arguments: [String]) throws {
            binary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("stepworker").path
            python = FileManager.default.currentDirectoryPath + "/.build/venv/bin/python"
            boto3Worker = FileManager.default.currentDirectoryPath + "/scripts/boto3-worker.py"
            var rest = arguments.dropFirst()
            while let option = rest.popFirst() {
                guard let value = rest.popFirst() else { throw BenchError("\(option) needs a value") }
                switch option {
                case "--binary": binary = value
                case "--concurrency": concurrencies = value.split(separator: ",").compactMap { Int($0) }
                case "--spawn-seconds": spawnSeconds = Double(value) ?? spawnSeconds
                case "--task-seconds": taskSeconds = Double(value) ?? taskSeconds
                case "--overhead-tasks": overheadTasks = Int(value) ?? overheadTasks
                case "--idle-seconds": idleSeconds = Double(value) ?? idleSeconds
                case "--warm": warm = value
                case "--python": python = value
                case "--warm-stdio-tasks": warmStdioTasks = Int(value) ?? warmStdioTasks
                case "--warm-tasks": warmTasks = Int(value) ?? warmTasks
                case "--warm-concurrency": warmConcurrency = Int(value) ?? warmConcurrency
                case "--boto3": boto3 = value
                case "--boto3-worker": boto3Worker = value
                case "--boto3-tasks": boto3Tasks = Int(value) ?? boto3Tasks
                default:
                    throw BenchError("""
                        unknown option \(option)
                        usage: stepworker-bench [--binary PATH] [--concurrency 1,4,16] [--spawn-seconds 2] \
                        [--task-seconds 2] [--overhead-tasks 300] [--idle-seconds 30] [--warm on|off|only] \
                        [--python .build/venv/bin/python] [--warm-stdio-tasks 100] [--warm-tasks 2000] [--warm-concurrency 8] \
                        [--boto3 on|off] [--boto3-worker scripts/boto3-worker.py] [--boto3-tasks 1000]
                        """)
                }
            }
        }
    }

    struct Handler {
        var label: String
        var path: String
    }

    static let input = #"{"n":1}"#

    static func main() async {
        do {
            if CommandLine.arguments.dropFirst().first == "--call-floor" {
                try await callFloorChild(Array(CommandLine.arguments.dropFirst(2)))
                return
            }
            var bench = Bench(options: try Options(CommandLine.arguments))
            try await bench.run()
        } catch {
            FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
            exit(1)
        }
    }

    let options: Options
    let root: String
    var readyTimes: [Duration] = []
    /// Issue 12's targets, one row per figure, printed together at the end.
    var targets = Table("figure (issue 12)", "measured", "target", "verdict")

    init(options: Options) {
        self.options = options
        root = "/tmp/stepworker-bench-\(getpid())"
    }

    mutating func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: options.binary) else {
            throw BenchError("no stepworker binary at \(options.binary) (--binary PATH)")
        }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let script = root + "/cat.sh"
        try "#!/bin/sh\ncat\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let handlers = [Handler(label: "/bin/cat", path: "/bin/cat"), Handler(label: "sh+cat", path: script)]

        say("stepworker bench: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage()) at start")
        say("binary: \(options.binary)")
        say("")
        if options.warm != "off" {
            let warm = try await warmComparison()
            printWarm(warm)
            if let lambda = warm.last {
                targets.add("daemon CPU per warm (protocol = \"lambda\") task, conc \(options.warmConcurrency)",
                            format(lambda.daemonSeconds / Double(lambda.tasks) * 1000, 2) + " ms", "(none given)", "")
            }
            if options.warm == "only" {
                say(targets.render())
                return
            }
        }

        // 1. Throughput next to the bare spawn rate.
        var table = Table(
            "handler", "state", "conc", "tasks", "worker/s", "bare/s", "ratio", "daemon CPU/task", "target",
            "daemon CPU", "handlers CPU", "endpoint CPU", "machine busy")
        var catRows: [(label: String, row: ThroughputResult)] = []
        let compareAt = options.concurrencies.contains(16) ? 16 : (options.concurrencies.max() ?? 16)
        var endpointBusiest = 0.0
        let tmpfsState = "/dev/shm/stepworker-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: tmpfsState, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmpfsState) }
        // The last runs put the outbox on tmpfs: the same work without the cost of fsync.
        let runs = handlers.map { ($0, nil as String?) } + [(handlers[0], tmpfsState)]
        for (handler, state) in runs {
            for concurrency in options.concurrencies {
                let row = try await throughput(
                    handler, concurrency: concurrency, stateDirectory: state.map { "\($0)/throughput-\(concurrency)" })
                let ratio = row.rate / row.bare.rate
                endpointBusiest = max(endpointBusiest, row.endpointCPU)
                let stateLabel = state == nil ? "ext4" : "tmpfs"
                let perTask = row.daemonCPU / 100 / row.rate * 1000
                var target = ""
                if handler.path == "/bin/cat", concurrency == 16 {
                    let limit = state == nil ? 0.45 : 0.30
                    target = "<= \(format(limit, 2)) ms: " + (perTask <= limit ? "met" : "missed")
                    targets.add("daemon CPU per task, conc 16, \(stateLabel)", format(perTask, 2) + " ms", "<= \(format(limit, 2)) ms",
                                perTask <= limit ? "met" : "missed")
                }
                if handler.path == "/bin/cat", concurrency == compareAt { catRows.append(("stepworker, \(stateLabel)", row)) }
                table.add(
                    handler.label, stateLabel, "\(concurrency)", "\(row.tasks)", format(row.rate, 0),
                    format(row.bare.rate, 0), format(ratio * 100, 0) + "%", format(perTask, 2) + " ms", target, percent(row.daemonCPU),
                    percent(row.handlersCPU), percent(row.endpointCPU), percent(row.machineBusy))
                if row.failed > 0 { say("  warning: \(row.failed) of \(row.tasks) tasks did not succeed") }
            }
        }
        say("Throughput: tasks/s through `stepworker run` (one activity, pollers = concurrency = conc, log_level info,")
        say("state_directory on ext4, or on tmpfs to show what fsync costs) next to bare posix_spawn+pipes+waitpid of")
        say("the same handler at the same parallelism, measured just before. handler /bin/cat: the binary itself;")
        say("sh+cat: a #!/bin/sh script running cat. CPU columns are % of one core during the timed run (handlers:")
        say("children the daemon reaped; machine busy: all cores, 100% each, anyone's).")
        say(table.render())
        say("")

        // 1b. The typical boto3 worker on the same tasks.
        if options.boto3 != "off", !catRows.isEmpty {
            if let missing = boto3Missing() {
                say("boto3 comparison skipped: \(missing)")
                say("")
            } else {
                let boto3 = try await boto3Throughput(concurrency: compareAt, tasks: options.boto3Tasks)
                printBoto3(boto3, ours: catRows, concurrency: compareAt)
                for (label, row) in catRows {
                    let speed = row.rate / boto3.rate
                    let share = row.daemonCPU / 100 / row.rate / boto3.cpuPerTask
                    targets.add("tasks/s vs boto3, conc \(compareAt), \(label)", format(speed, 1) + "x", ">= 5x", speed >= 5 ? "met" : "missed")
                    targets.add("CPU/task vs boto3, conc \(compareAt), \(label)", "1/" + format(1 / share, 1), "<= 1/10", share <= 0.1 ? "met" : "missed")
                }
            }
        }

        // 2. Per-task overhead, next to its floors.
        var overheadMedians: [String: Double] = [:]
        var overheadTable = Table(
            "state_directory", "tasks", "handler p50", "overhead p50", "overhead p99", "target p50", "in-daemon p50",
            "in-daemon p99", "delivery p50", "in-flight p50", "in-flight p99", "target p99 <2ms")
        for (label, directory) in [("ext4 (" + root + ")", nil as String?), ("tmpfs (/dev/shm)", "/dev/shm/stepworker-bench-\(getpid())")] {
            defer { if let directory { try? FileManager.default.removeItem(atPath: directory) } }
            let result = try await overhead(stateDirectory: directory)
            let limit = directory == nil ? 1200.0 : 600.0
            overheadMedians[directory == nil ? "ext4" : "tmpfs"] = result.endpoint.median
            let verdict = result.endpoint.median <= limit ? "met" : "missed"
            targets.add("overhead p50, conc 1, \(directory == nil ? "ext4" : "tmpfs")", micro(result.endpoint.median) + " ms",
                        "<= \(micro(limit)) ms", verdict)
            overheadTable.add(
                label, "\(result.endpoint.count)", micro(result.handler.median), micro(result.endpoint.median),
                micro(result.endpoint.percentile(99)), "<= \(micro(limit)): \(verdict)",
                micro(result.daemon.median), micro(result.daemon.percentile(99)), micro(result.delivery.median),
                micro(result.inflight.median), micro(result.inflight.percentile(99)),
                result.inflight.percentile(99) < 2000 ? "met" : "missed")
        }
        say("Per-task overhead (handler /bin/cat, concurrency 1, one task at a time, log_level debug):")
        say("overhead = endpoint's handout -> result received, minus the handler's time (spawn -> exit, from the")
        say("daemon's STEPWORKER_HANDLER_US). in-daemon = STEPWORKER_OVERHEAD_US (TaskRun start -> delivery acknowledged,")
        say("minus the handler). delivery = the SendTaskSuccess round trip. in-flight = STEPWORKER_INFLIGHT_US (poll")
        say("answer received -> its started record durable in the journal: a SIGKILL inside it loses the task until its heartbeat")
        say("timeout; docs/daemon.md). Times in ms.")
        say(overheadTable.render())
        say("")
        try await printFloors(overheadMedians: overheadMedians, tmpfsState: tmpfsState, catRows: catRows)

        // 3. Idle.
        let idle = try await idle()
        var idleTable = Table("figure", "value", "target")
        idleTable.add("CPU, utime+stime ticks", percent(idle.cpuTicksPercent, digits: 3), idle.cpuTicksPercent < 0.05 ? "< 0.05%: met" : "< 0.05%: missed")
        idleTable.add("CPU, thread schedstat", percent(idle.cpuSchedPercent, digits: 3), idle.cpuSchedPercent < 0.05 ? "< 0.05%: met" : "< 0.05%: missed")
        idleTable.add("wakeups (context switches)/s", format(idle.wakeupsPerSecond, 1), "")
        idleTable.add("polls that returned in the window", "\(idle.pollsReturned)", "")
        idleTable.add("VmRSS", megabytes(idle.rss), idle.rss <= 15 * 1024 ? "<= 15 MB: met" : "<= 15 MB: missed")
        idleTable.add("VmHWM (peak since start)", megabytes(idle.hwm), "")
        idleTable.add("  of VmRSS: RssAnon (heap, stacks)", megabytes(idle.rssAnon), "")
        idleTable.add("  of VmRSS: RssFile (mapped binary, libraries)", megabytes(idle.rssFile), "")
        idleTable.add("threads", "\(idle.threads)", "")
        say("Idle: 8 activities x 8 pollers (concurrency 8 each) = \(idle.openPolls) open 60 s long polls, no tasks,")
        say("measured over \(format(idle.window.seconds, 0)) s after the polls were open (% of one core).")
        say(idleTable.render())
        say("")
        targets.add("idle CPU, 64 open polls (schedstat)", percent(idle.cpuSchedPercent, digits: 3), "< 0.05%",
                    idle.cpuSchedPercent < 0.05 ? "met" : "missed")
        targets.add("VmRSS, 8 x 8 open polls", megabytes(idle.rss), "<= 15 MB", idle.rss <= 15 * 1024 ? "met" : "missed")

        // 4. READY=1.
        let ready = Sample(readyTimes.map { $0.seconds * 1000 })
        say("Time to READY=1 (spawn -> READY=1 datagram on NOTIFY_SOCKET), over \(ready.count) starts: min \(format(ready.percentile(0), 1)) ms, median \(format(ready.median, 1)) ms, max \(format(ready.percentile(100), 1)) ms")
        say("")
        targets.add("time to READY=1, median of \(ready.count) starts", format(ready.median, 1) + " ms", "<= 15 ms", ready.median <= 15 ? "met" : "missed")
        say("Endpoint (this process) used at most \(percent(endpointBusiest)) of a core in a throughput run"
            + (endpointBusiest > 70 ? ": it may be limiting the figures." : ": not the bottleneck."))
        say("load average at end: \(loadAverage())")
        say("")
        addSizeTargets()
        say("Issue 12's targets (benchmarks, not tests: nothing fails):")
        say(targets.render())
    }

    // MARK: Throughput

    struct ThroughputResult {
        var bare: BareSpawn.Result
        var tasks: Int
        var failed: Int
        var elapsed: Duration
        var daemonCPU: Double
        var handlersCPU: Double
        var endpointCPU: Double
        var machineBusy: Double
        var rate: Double { Double(tasks) / elapsed.seconds }
    }

    mutating func throughput(_ handler: Handler, concurrency: Int, stateDirectory: String?) async throws -> ThroughputResult {
        let binary = options.binary
        let bare = await BareSpawn.measure(
            executable: handler.path, input: Self.input, parallelism: concurrency, duration: .seconds(options.spawnSeconds))
        guard bare.failures == 0, bare.spawns > 0 else { throw BenchError("bare spawn of \(handler.path) failed \(bare.failures) times") }
        let count = min(max(Int(bare.rate * options.taskSeconds), 200), 5000)
        let directory = root + "/throughput-\(concurrency)-\(handler.label.replacingOccurrences(of: "/", with: "_"))-\(stateDirectory == nil ? "ext4" : "tmpfs")"
        let (result, ready) = try await withEndpoint(activities: ["bench"]) { server in
            let arn = Self.arn("bench")
            let daemon = try Daemon(
                binary: binary, directory: directory, endpoint: server.baseURL,
                activities: [.init(arn: arn, command: handler.path, concurrency: concurrency)], logLevel: "info",
                stateDirectory: stateDirectory)
            do {
                let ready = try await daemon.waitReady()
                try await Self.waitForOpenPolls(server, count: concurrency, daemon: daemon)
                _ = try await Self.runTasks(server.endpoint, arn: arn, count: 2 * concurrency)  // warm-up

                guard let before = ProcSnapshot.read(daemon.pid) else { throw BenchError("daemon gone") }
                let ownBefore = ownCPUSeconds()
                let machineBefore = machineJiffies()
                let started = ContinuousClock.now
                let tasks = try await Self.runTasks(server.endpoint, arn: arn, count: count)
                let elapsed = ContinuousClock.now - started
                let ownAfter = ownCPUSeconds()
                let machineAfter = machineJiffies()
                guard let after = ProcSnapshot.read(daemon.pid) else { throw BenchError("daemon gone") }
                await daemon.stop { await server.shutdown() }

                let seconds = elapsed.seconds
                let ticks = ProcSnapshot.ticksPerSecond
                let result = ThroughputResult(
                    bare: bare, tasks: count, failed: tasks.filter { $0.status != .succeeded }.count, elapsed: elapsed,
                    daemonCPU: Double(after.cpuTicks - before.cpuTicks) / ticks / seconds * 100,
                    handlersCPU: Double(after.childTicks - before.childTicks) / ticks / seconds * 100,
                    endpointCPU: (ownAfter - ownBefore) / seconds * 100,
                    machineBusy: Double(machineAfter.busy - machineBefore.busy)
                        / Double(max(machineAfter.total - machineBefore.total, 1)) * Double(ProcessInfo.processInfo.activeProcessorCount) * 100)
                return (result, ready)
            } catch {
                await daemon.stop { await server.shutdown() }
                throw error
            }
        }
        readyTimes.append(ready)
        return result
    }

    /// Submits `count` tasks at once and waits until every one has finished.
    static func runTasks(_ endpoint: LocalEndpoint, arn: String, count: Int) async throws -> [LocalTask] {
        var ids: [String] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            ids.append(try await endpoint.submitTask(TaskSubmission(activityArn: arn, input: Self.input)))
        }
        var tasks: [LocalTask] = []
        for id in ids {
            guard let task = await endpoint.waitForTask(id: id, timeout: .seconds(120)), task.status.isFinished else {
                throw BenchError("task \(id) did not finish within 120 s")
            }
            tasks.append(task)
        }
        return tasks
    }

    // MARK: Overhead

    struct OverheadResult {
        var endpoint: Sample
        var daemon: Sample
        var handler: Sample
        var delivery: Sample
        /// STEPWORKER_INFLIGHT_US: poll answer received -> task journaled (what a SIGKILL can lose).
        var inflight: Sample
    }

    mutating func overhead(stateDirectory: String?) async throws -> OverheadResult {
        let binary = options.binary
        let directory = root + "/overhead-\(stateDirectory == nil ? "disk" : "tmpfs")"
        let tasksToRun = options.overheadTasks
        let (tasks, timings, ready) = try await withEndpoint(activities: ["bench"]) { server in
            let arn = Self.arn("bench")
            let daemon = try Daemon(
                binary: binary, directory: directory, endpoint: server.baseURL,
                activities: [.init(arn: arn, command: "/bin/cat", concurrency: 1)], logLevel: "debug",
                stateDirectory: stateDirectory)
            do {
                let ready = try await daemon.waitReady()
                try await Self.waitForOpenPolls(server, count: 1, daemon: daemon)
                for _ in 0..<20 { _ = try await Self.runTasks(server.endpoint, arn: arn, count: 1) }  // warm-up
                var tasks: [LocalTask] = []
                for _ in 0..<tasksToRun { tasks += try await Self.runTasks(server.endpoint, arn: arn, count: 1) }
                await daemon.waitForTimingLines(20 + tasksToRun)
                await daemon.stop { await server.shutdown() }
                return (tasks, daemon.taskTimings(), ready)
            } catch {
                await daemon.stop { await server.shutdown() }
                throw error
            }
        }
        readyTimes.append(ready)
        var endpoint: [Double] = []
        var daemon: [Double] = []
        var handler: [Double] = []
        var delivery: [Double] = []
        var inflight: [Double] = []
        for task in tasks {
            guard task.status == .succeeded, let token = task.token, let started = task.startedAt, let finished = task.finishedAt,
                let timing = timings[TaskToken(token).fingerprint]
            else { continue }
            endpoint.append(finished.timeIntervalSince(started) * 1e6 - timing.handler)
            daemon.append(timing.overhead)
            handler.append(timing.handler)
            delivery.append(timing.delivery)
            inflight.append(timing.inflight)
        }
        guard endpoint.count == tasks.count else {
            throw BenchError("only \(endpoint.count) of \(tasks.count) tasks succeeded with a timing line in the daemon's log")
        }
        return OverheadResult(
            endpoint: Sample(endpoint), daemon: Sample(daemon), handler: Sample(handler), delivery: Sample(delivery),
            inflight: Sample(inflight))
    }

    // MARK: Idle

    struct IdleResult {
        var openPolls: Int
        var window: Duration
        var cpuTicksPercent: Double
        var cpuSchedPercent: Double
        var wakeupsPerSecond: Double
        var pollsReturned: Int
        var rss: Int
        var hwm: Int
        var rssAnon: Int
        var rssFile: Int
        var threads: Int
    }

    mutating func idle() async throws -> IdleResult {
        let binary = options.binary
        let names = (1...8).map { "idle-\($0)" }
        let directory = root + "/idle"
        let idleSeconds = options.idleSeconds
        let (result, ready) = try await withEndpoint(activities: names) { server in
            let activities = names.map {
                Daemon.Activity(arn: Self.arn($0), command: "/bin/cat", concurrency: 8)
            }
            let daemon = try Daemon(binary: binary, directory: directory, endpoint: server.baseURL, activities: activities, logLevel: "info")
            do {
                let ready = try await daemon.waitReady()
                try await Self.waitForOpenPolls(server, count: 64, daemon: daemon)
                try await Task.sleep(for: .seconds(2))  // let start-up settle
                let pollsBefore = await server.endpoint.stats().requests["GetActivityTask", default: 0]
                guard let before = ProcSnapshot.read(daemon.pid) else { throw BenchError("daemon gone") }
                try await Task.sleep(for: .seconds(idleSeconds))
                guard let after = ProcSnapshot.read(daemon.pid) else { throw BenchError("daemon gone") }
                let stats = await server.endpoint.stats()
                let openPolls = stats.activities.values.map(\.openPolls).reduce(0, +)
                let pollsAfter = stats.requests["GetActivityTask", default: 0]
                await daemon.stop { await server.shutdown() }
                let window = after.at - before.at
                let result = IdleResult(
                    openPolls: openPolls, window: window,
                    cpuTicksPercent: Double(after.cpuTicks - before.cpuTicks) / ProcSnapshot.ticksPerSecond / window.seconds * 100,
                    cpuSchedPercent: Double(after.threadRunNanoseconds(since: before)) / 1e9 / window.seconds * 100,
                    wakeupsPerSecond: Double(after.contextSwitches(since: before)) / window.seconds,
                    pollsReturned: pollsAfter - pollsBefore, rss: after.vmRSS, hwm: after.vmHWM, rssAnon: after.rssAnon, rssFile: after.rssFile, threads: after.threads)
                return (result, ready)
            } catch {
                await daemon.stop { await server.shutdown() }
                throw error
            }
        }
        readyTimes.append(ready)
        return result
    }

    // MARK: Helpers

    /// The ARN of the endpoint's activity `name` (its default region and account).
    static func arn(_ name: String) -> String {
        LocalEndpointConfiguration().activityArn(name: name)
    }

    /// A local endpoint with 60 s long polls (as the service), no signature checks (the bench
    /// measures the worker, not the endpoint's SigV4), and the monotonic clock.
    func withEndpoint<T>(activities: [String], _ body: (LocalEndpointServer) async throws -> T) async throws -> T {
        let server = try await LocalEndpointServer.start(
            .init(credentials: nil, pollDuration: .seconds(60), activities: activities, now: monotonicDate))
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    static func waitForOpenPolls(_ server: LocalEndpointServer, count: Int, daemon: Daemon) async throws {
        let end = ContinuousClock.now.advanced(by: .seconds(30))
        while await server.endpoint.stats().activities.values.map(\.openPolls).reduce(0, +) < count {
            guard ContinuousClock.now < end else { throw BenchError("fewer than \(count) polls open after 30 s; daemon log:\n\(daemon.log)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    func percent(_ value: Double, digits: Int = 0) -> String { format(value, digits) + "%" }

    func micro(_ microseconds: Double) -> String { format(microseconds / 1000, 3) }

    func megabytes(_ kilobytes: Int) -> String { format(Double(kilobytes) / 1024, 1) + " MB" }
}
