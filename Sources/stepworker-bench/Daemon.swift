import Foundation
import Glibc

/// One `stepworker run` child: its configuration, its notify socket and its stderr log, all in
/// a directory of its own.
final class Daemon: @unchecked Sendable {
    struct Activity {
        var arn: String
        var command: String
        var concurrency: Int
        /// After `command` in argv.
        var arguments: [String] = []
        /// More TOML lines for the table (e.g. `protocol = "lambda"`).
        var extra: String = ""
    }

    static let accessKeyID = "AKIDBENCH"
    static let secretAccessKey = "bench-secret"

    let directory: String
    let process: Process
    let notify: NotifySocket
    let spawnedAt: ContinuousClock.Instant
    var pid: Int32 { process.processIdentifier }
    var logPath: String { directory + "/daemon.log" }

    /// Writes the configuration and starts the binary; `stateDirectory` defaults to one under `directory`.
    init(
        binary: String, directory: String, endpoint: String, activities: [Activity], logLevel: String,
        stateDirectory: String? = nil
    ) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = """
            [aws]
            region = "us-east-1"
            endpoint = "\(endpoint)"
            [worker]
            name = "bench"
            state_directory = "\(stateDirectory ?? directory + "/state")"
            shutdown_grace = "5s"
            log_level = "\(logLevel)"

            """
        for activity in activities {
            config += """
                [[activity]]
                arn = "\(activity.arn)"
                command = [\(([activity.command] + activity.arguments).map { "\"\($0)\"" }.joined(separator: ", "))]
                concurrency = \(activity.concurrency)
                pollers = \(activity.concurrency)
                \(activity.extra)

                """
        }
        let configPath = directory + "/stepworker.toml"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        notify = try NotifySocket(path: directory + "/notify")

        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", configPath]
        process.environment = [
            "PATH": "/usr/bin:/bin", "HOME": directory,
            "AWS_ACCESS_KEY_ID": Self.accessKeyID, "AWS_SECRET_ACCESS_KEY": Self.secretAccessKey,
            "NOTIFY_SOCKET": notify.path,
        ]
        _ = FileManager.default.createFile(atPath: directory + "/daemon.log", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/daemon.log"))
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        spawnedAt = ContinuousClock.now
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Time from spawn to READY=1.
    func waitReady() async throws -> Duration {
        let end = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < end {
            if let ready = await notify.wait(for: "READY=1", timeout: .milliseconds(100)) { return ready - spawnedAt }
            if !process.isRunning {
                throw BenchError("the daemon exited (\(process.terminationStatus)) before READY=1; its log:\n\(log)")
            }
        }
        throw BenchError("the daemon sent no READY=1 within 30 s; its log:\n\(log)")
    }

    /// Waits until the log has `count` "Task timing" lines (at most `within`). The endpoint marks a
    /// task finished when the result's request arrives, before its answer is back in the daemon,
    /// which logs the line only after that; stopping the endpoint at once lost the last one.
    func waitForTimingLines(_ count: Int, within limit: Duration = .seconds(10)) async {
        let end = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < end {
            if log.components(separatedBy: "Task timing").count - 1 >= count { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, then `afterSignal` (the endpoint shuts down, answering open polls), then waits
    /// for the exit; SIGKILL after 30 s. Returns the exit status.
    @discardableResult
    func stop(afterSignal: @Sendable () async -> Void) async -> Int32 {
        kill(pid, SIGTERM)
        _ = await notify.wait(for: "STOPPING=1", timeout: .seconds(5))
        await afterSignal()
        let end = ContinuousClock.now.advanced(by: .seconds(30))
        while process.isRunning {
            if ContinuousClock.now >= end {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                break
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        notify.shutdown()
        return process.terminationStatus
    }

    /// `STEPWORKER_*` fields of every "Task timing" line in the log, by task fingerprint.
    func taskTimings() -> [String: (handler: Double, overhead: Double, delivery: Double, inflight: Double)] {
        var timings: [String: (Double, Double, Double, Double)] = [:]
        for line in log.split(separator: "\n") where line.contains("Task timing") {
            var fields: [Substring: Substring] = [:]
            for word in line.split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { continue }
                fields[word[..<equals]] = word[word.index(after: equals)...]
            }
            guard let id = fields["STEPWORKER_TASK_ID"],
                let handler = fields["STEPWORKER_HANDLER_US"].flatMap({ Double($0) }),
                let overhead = fields["STEPWORKER_OVERHEAD_US"].flatMap({ Double($0) }),
                let delivery = fields["STEPWORKER_DELIVERY_US"].flatMap({ Double($0) }),
                let inflight = fields["STEPWORKER_INFLIGHT_US"].flatMap({ Double($0) })
            else { continue }
            timings[String(id)] = (handler, overhead, delivery, inflight)
        }
        return timings
    }
}
