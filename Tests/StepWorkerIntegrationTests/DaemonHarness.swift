import Foundation
import StepWorkerTestKit
import StepFunctionsLocal
import StepWorker
import Testing

/// Several activities for `stepworker run` as the built binary, and the helpers the load and
/// fault suites share with `DaemonProcessTests`.
extension DaemonProcessTests.Harness {
    /// One `[[activity]]`: a handler script and its capacity.
    struct ActivitySpec {
        var name: String
        var script: String
        var concurrency: Int
        var pollers: Int? = nil
        /// `heartbeat` (a duration such as `"250ms"`); nil: the default.
        var heartbeat: String? = nil
        /// Further TOML lines for the table.
        var extra: String = ""
        /// The handler's argv instead of `script` written to a file.
        var command: [String]? = nil
    }

    /// Creates every activity on the endpoint and writes one configuration serving them all.
    /// Returns the file and the activities' ARNs, in `activities`' order.
    func configuration(
        activities: [ActivitySpec], grace: String = "5s", logLevel: String = "info"
    ) async throws -> (file: String, arns: [String]) {
        var arns: [String] = []
        var tables: [String] = []
        for spec in activities {
            let arn = try await admin.createActivity(name: spec.name)
            arns.append(arn)
            let command = spec.command ?? [directory.script(spec.script, name: "\(spec.name).sh")]
            let argv = command.map { #""\#($0)""# }.joined(separator: ", ")
            var lines = ["[[activity]]", #"arn = "\#(arn)""#, "command = [\(argv)]", "concurrency = \(spec.concurrency)"]
            if let pollers = spec.pollers { lines.append("pollers = \(pollers)") }
            if let heartbeat = spec.heartbeat { lines.append(#"heartbeat = "\#(heartbeat)""#) }
            if !spec.extra.isEmpty { lines.append(spec.extra) }
            tables.append(lines.joined(separator: "\n"))
        }
        let file = directory.write("stepworker.toml", """
            [aws]
            region = "us-east-1"
            endpoint = "\(server.baseURL)"
            [worker]
            state_directory = "\(directory.path)/state"
            shutdown_grace = "\(grace)"
            log_level = "\(logLevel)"

            \(tables.joined(separator: "\n\n"))
            """)
        return (file, arns)
    }

    /// What the daemon's ledger still keeps (none once every result is taken).
    var stateLeftovers: [String] { LedgerJournal.kept(stateDirectory: "\(directory.path)/state") }

    /// SIGTERM, then the exit status once the daemon has drained (nil: it did not exit in time).
    func stop(_ process: Process, notify: NotifySocket, timeout: Duration = .seconds(30)) async -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        return await DaemonProcessTests.waitForExit(process, notify: notify, timeout: timeout)
    }

    /// Waits until task `id` has finished (or `timeout`), reading `notify` meanwhile.
    func finished(_ id: String, notify: NotifySocket, timeout: Duration = .seconds(60)) async throws -> LocalAdminClient.TaskState {
        let end = ContinuousClock.now + timeout
        while true {
            notify.collect()
            let state = try await admin.task(id, waitUpTo: .milliseconds(500))
            if state.isFinished || ContinuousClock.now >= end { return state }
        }
    }
}

extension DaemonProcessTests {
    /// Waits for `process` to exit (without blocking a cooperative thread), reading `notify`
    /// meanwhile: its queue holds only `net.unix.max_dgram_qlen` (10) datagrams, and the daemon's
    /// `sd_notify` blocks on a full one. Nil on timeout, after killing it so no daemon outlives
    /// its test.
    static func waitForExit(_ process: Process, notify: NotifySocket, timeout: Duration) async -> Int32? {
        let exited = (try? await waitUntil(timeout: timeout) {
            notify.collect()
            return !process.isRunning
        }) ?? false
        guard exited else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// A local endpoint with a 1 s long poll, signed with the daemon tests' credentials.
    static func withHarness(_ body: (Harness) async throws -> Void) async throws {
        try await LocalSession.with(.init(credentials: credentials, pollDuration: .seconds(1))) { session in
            try await body(Harness(server: session.server, admin: session.admin))
        }
    }
}

/// Lines of a file, empty when it does not exist.
func lines(of path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}
