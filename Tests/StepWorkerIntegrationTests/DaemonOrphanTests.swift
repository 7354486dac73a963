import Foundation
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A daemon killed outright (SIGKILL, the OOM killer) cannot stop its handlers, and outside
/// systemd nothing else would: each handler's leader is spawned with `PR_SET_PDEATHSIG`, so the
/// kernel kills it when the daemon goes, and a restart never runs beside orphans of the last run.
@Suite("stepworker run: handlers die with a SIGKILLed daemon", .timeLimit(.minutes(1)))
struct DaemonOrphanTests {
    @Test func aHandlerDoesNotOutliveTheDaemon() async throws {
        try await DaemonProcessTests.withHarness { h in
            let pidFile = h.directory.path + "/handler.pid"
            let (config, arns) = try await h.configuration(activities: [
                .init(name: "sleeper", script: "echo $$ > \(pidFile); exec sleep 60", concurrency: 1)
            ])
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            _ = try await h.admin.submitTask(activityArn: arns[0])
            let handler = try await DaemonFaultTests.readPID(pidFile)
            defer { if !processIsGone(handler) { kill(handler, SIGKILL) } }
            #expect(!processIsGone(handler))

            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            #expect(try await waitUntil(timeout: .seconds(5)) { processIsGone(handler) },
                "the handler outlived the SIGKILLed daemon")
        }
    }
}
