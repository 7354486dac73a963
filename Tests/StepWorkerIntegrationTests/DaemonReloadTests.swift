import Foundation
import StepWorkerTestKit
import StepFunctions
import StepFunctionsLocal
import StepWorker
import Testing

/// SIGHUP to the built `stepworker run`: systemd hears `RELOADING=1` with `MONOTONIC_USEC` and
/// then `READY=1`; an added activity is served while a handler keeps running; a broken file is
/// refused with its problems in the log and the daemon goes on with what it had.
@Suite("stepworker run: reload", .timeLimit(.minutes(1)))
struct DaemonReloadTests {
    let daemon = DaemonProcessTests()

    @Test func sighupAddsAnActivityAndABrokenFileIsRefused() async throws {
        try await daemon.withHarness { h in
            let dir = h.directory.path
            let slow = h.directory.script("touch \(dir)/started; while [ ! -e \(dir)/gate ]; do sleep 0.02; done; cat", name: "slow.sh")
            let fast = h.directory.script("cat", name: "fast.sh")
            let slowARN = try await h.admin.createActivity(name: "slow")
            let fastARN = try await h.admin.createActivity(name: "fast")
            func configuration(_ activities: String) -> String {
                h.directory.write("stepworker.toml", """
                    [aws]
                    region = "us-east-1"
                    endpoint = "\(h.server.baseURL)"
                    [worker]
                    state_directory = "\(dir)/state"
                    shutdown_grace = "5s"
                    [[activity]]
                    arn = "\(slowARN)"
                    command = ["\(slow)"]
                    \(activities)
                    """)
            }
            let file = configuration("")
            let notify = try NotifySocket(path: dir + "/notify")
            let process = try h.start(config: file, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let long = try await h.admin.submitTask(activityArn: slowARN, input: #"{"long":true}"#)
            try await daemon.waitForFile(dir + "/started")

            _ = configuration("[[activity]]\narn = \"\(fastARN)\"\ncommand = [\"\(fast)\"]\n")
            kill(process.processIdentifier, SIGHUP)
            #expect(await notify.waitFor { _ in notify.assignments.filter { $0 == "READY=1" }.count == 2 }, "\(h.daemonLog)")
            let reloading = try #require(notify.received.first { $0.contains("RELOADING=1") })
            #expect(reloading.split(separator: "\n").contains { $0.hasPrefix("MONOTONIC_USEC=") }, "\(reloading)")
            let order = notify.assignments
            #expect(order.firstIndex(of: "RELOADING=1")! < order.lastIndex(of: "READY=1")!)
            #expect(order.contains("STATUS=1 running, 0 succeeded, 0 failed; 2 activities"), "\(order)")

            let quick = try await h.admin.submitTask(activityArn: fastARN, input: #"{"quick":true}"#)
            #expect(try await h.admin.task(quick, waitUpTo: .seconds(20)).output == #"{"quick":true}"#, "\(h.daemonLog)")
            #expect(try await h.admin.task(long).status == "STARTED")

            _ = configuration("concurrency = \"lots\"\n")
            kill(process.processIdentifier, SIGHUP)
            #expect(await notify.waitFor { _ in notify.assignments.filter { $0 == "READY=1" }.count == 3 }, "\(h.daemonLog)")
            #expect(h.daemonLog.contains("Reload refused: the configuration has problems; the running one stays"), "\(h.daemonLog)")
            #expect(h.daemonLog.contains("activity[0].concurrency"), "\(h.daemonLog)")
            let again = try await h.admin.submitTask(activityArn: fastARN, input: #"{"again":true}"#)
            #expect(try await h.admin.task(again, waitUpTo: .seconds(20)).status == "SUCCEEDED")

            _ = FileManager.default.createFile(atPath: dir + "/gate", contents: nil)
            #expect(try await h.admin.task(long, waitUpTo: .seconds(20)).output == #"{"long":true}"#)
            kill(process.processIdentifier, SIGTERM)
            #expect(await daemon.exitStatus(process) == 0, "\(h.daemonLog)")
        }
    }
}
