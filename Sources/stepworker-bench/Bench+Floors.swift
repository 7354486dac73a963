import Foundation
import Glibc
import StepFunctions
import StepFunctionsLocal

/// What the daemon cannot go below on this machine, measured in the same run as its figures:
/// a Step Functions call through the daemon's own client stack (StepFunctionsClient, SigV4,
/// HTTP1Client) from a process of its own to this process's endpoint, and a durable journal
/// append (`write` + `fdatasync`) on each state directory's file system.
///
/// A task at concurrency 1 costs at least one such call after its result is durable (the
/// `SendTaskSuccess` its delivery waits for) and two durable appends (the started record and the
/// result), so the c1 overhead is compared with their sum; its CPU, at least two calls (the poll
/// that hands it out and the result).
extension Bench {
    struct CallFloor {
        /// Sequential round trips, µs.
        var roundTrip: Sample
        /// The caller's CPU per call, µs, one call at a time and `concurrency` at a time.
        var cpuSequential: Double
        var cpuConcurrent: Double
        var concurrency: Int
    }

    /// Runs `--call-floor` in a child process: `calls` heartbeats one at a time, then as many
    /// spread over `concurrency` tasks at once.
    func callFloor(calls: Int, concurrency: Int) async throws -> CallFloor {
        try await withEndpoint(activities: ["floor"]) { server in
            let arn = Self.arn("floor")
            for _ in 0..<concurrency {
                _ = try await server.endpoint.submitTask(TaskSubmission(activityArn: arn, input: Self.input))
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["--call-floor", server.baseURL, arn, "\(calls)", "\(concurrency)"]
            // The child's output goes to a file, read once it has exited: a blocking read or
            // wait would hold one of the two cooperative threads this process's endpoint serves
            // the child with.
            let outputPath = root + "/call-floor.out"
            guard FileManager.default.createFile(atPath: outputPath, contents: nil) else { throw BenchError("cannot create \(outputPath)") }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            let _: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            let data = FileManager.default.contents(atPath: outputPath) ?? Data()
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            let fields = line.split(separator: " ").compactMap { Double($0) }
            guard process.terminationStatus == 0, fields.count >= 3, fields.count - 2 == calls else {
                throw BenchError("the call-floor child failed (status \(process.terminationStatus)): \(line.prefix(300))")
            }
            return CallFloor(
                roundTrip: Sample(Array(fields.dropFirst(2))), cpuSequential: fields[0], cpuConcurrent: fields[1],
                concurrency: concurrency)
        }
    }

    /// The child's side: takes `concurrency` tasks, heartbeats the first `calls` times one after
    /// another, then all of them `calls` times in all, `concurrency` at once. Prints one line:
    /// CPU µs per call sequential, CPU µs per call concurrent, then each sequential round trip (µs).
    static func callFloorChild(_ arguments: [String]) async throws {
        guard arguments.count == 4, let calls = Int(arguments[2]), let concurrency = Int(arguments[3]) else {
            throw BenchError("usage: stepworker-bench --call-floor URL ARN CALLS CONCURRENCY")
        }
        let http = StepFunctionsClient.makeHTTPClient()
        let configuration = StepFunctionsClient.Configuration(
            endpoint: try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: arguments[0]), environment: [:]))
        let client = StepFunctionsClient(
            configuration: configuration,
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: Daemon.accessKeyID, secretAccessKey: Daemon.secretAccessKey)),
            httpClient: http)
        var tokens: [TaskToken] = []
        while tokens.count < concurrency {
            if let task = try await client.getActivityTask(activityArn: arguments[1], workerName: "floor") { tokens.append(task.token) }
        }
        for _ in 0..<20 { try await client.sendTaskHeartbeat(token: tokens[0]) }  // warm-up
        var roundTrips: [Double] = []
        let sequentialBefore = ownCPUSeconds()
        for _ in 0..<calls {
            let started = ContinuousClock.now
            try await client.sendTaskHeartbeat(token: tokens[0])
            roundTrips.append((ContinuousClock.now - started).microseconds)
        }
        let sequential = (ownCPUSeconds() - sequentialBefore) / Double(calls) * 1e6
        let perTask = max(calls / concurrency, 1)
        let concurrentBefore = ownCPUSeconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for token in tokens {
                group.addTask { for _ in 0..<perTask { try await client.sendTaskHeartbeat(token: token) } }
            }
            try await group.waitForAll()
        }
        let concurrent = (ownCPUSeconds() - concurrentBefore) / Double(perTask * tokens.count) * 1e6
        for token in tokens { try await client.sendTaskSuccess(token: token, output: "{}") }
        try await http.shutdown()
        print(([sequential, concurrent] + roundTrips).map { String(format: "%.1f", $0) }.joined(separator: " "))
    }

    /// `write` of a journal-sized record (200 bytes) + `fdatasync`, `count` times on a file in
    /// `directory`; µs each.
    static func durableAppendFloor(directory: String, count: Int) throws -> Sample {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/floor.journal"
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BenchError("open \(path): errno \(errno)") }
        defer { close(fd); unlink(path) }
        let record = [UInt8](repeating: 0x61, count: 200)
        var times: [Double] = []
        for _ in 0..<count {
            let started = ContinuousClock.now
            guard write(fd, record, record.count) == record.count, fdatasync(fd) == 0 else {
                throw BenchError("write + fdatasync \(path): errno \(errno)")
            }
            times.append((ContinuousClock.now - started).microseconds)
        }
        return Sample(times)
    }
}

extension Bench {
    /// The floors table: each measured beside what the run's figures compare with it.
    func printFloors(
        overheadMedians: [String: Double], tmpfsState: String, catRows: [(label: String, row: ThroughputResult)]
    ) async throws {
        let call = try await callFloor(calls: 300, concurrency: 16)
        let appends = [
            ("ext4", try Self.durableAppendFloor(directory: root + "/floor", count: 300)),
            ("tmpfs", try Self.durableAppendFloor(directory: tmpfsState + "/floor", count: 300)),
        ]
        var table = Table("floor", "value", "the daemon's figure")
        table.add("call round trip, c1, p50 / p99", micro(call.roundTrip.median) + " / " + micro(call.roundTrip.percentile(99)) + " ms", "")
        table.add("caller's CPU per call, c1", micro(call.cpuSequential) + " ms", "")
        table.add("caller's CPU per call, c\(call.concurrency)", micro(call.cpuConcurrent) + " ms", "")
        for (label, sample) in appends {
            table.add("write 200 B + fdatasync, \(label), p50", micro(sample.median) + " ms", "")
        }
        for (label, sample) in appends {
            let floor = call.roundTrip.median + 2 * sample.median
            let measured = overheadMedians[label].map { micro($0) + " ms overhead p50" } ?? ""
            table.add("c1 overhead floor, \(label): 1 call + 2 appends", micro(floor) + " ms", measured)
        }
        for (label, row) in catRows where row.rate > 0 && row.bare.spawns > 0 {
            let perTask = row.daemonCPU / 100 / row.rate * 1e6
            let spawn = row.bare.parentCPUSeconds / Double(row.bare.spawns) * 1e6
            let state = label.replacingOccurrences(of: "stepworker, ", with: "")
            table.add("a bare spawn's parent side, CPU per spawn (before the \(state) row)", micro(spawn) + " ms", "")
            table.add("CPU floor per task, \(state): 2 calls + a bare spawn",
                      micro(2 * call.cpuConcurrent + spawn) + " ms", micro(perTask) + " ms daemon CPU/task")
        }
        say("Floors: what a task cannot cost less than here. A call = SendTaskHeartbeat through the daemon's client")
        say("stack (StepFunctionsClient, SigV4, HTTP1Client) from a process of its own to this process's endpoint;")
        say("an append = write + fdatasync of a record-sized write on the state directory's file system. At c1 a task")
        say("waits for one call after its result is durable and for two appends (started, result); its CPU includes")
        say("at least two calls (the poll that hands it out, the result) and the parent's side of a bare spawn.")
        say(table.render())
        say("")
    }
}
