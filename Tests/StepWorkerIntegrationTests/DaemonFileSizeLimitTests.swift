import Foundation
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

/// `stepworker run` where its files cannot grow far: under an RLIMIT_FSIZE too small for the
/// journal's zeroed space ahead (1 MiB, `JournalFile`) but not for its records. The zeros fail
/// with EFBIG (SIGXFSZ ignored), the file is cut back to its records, batches append, and
/// every task goes on; without the limit the zeroed space is back at the next start.
@Suite("stepworker run under a file-size limit", .timeLimit(.minutes(1)))
struct DaemonFileSizeLimitTests {
    static let limit = 256 << 10
    /// `JournalFile.refillBelow`: the least zeroed space ahead once a refill succeeded.
    static let leastZeroedAhead = 256 << 10

    /// The journal's bytes, and how many zero bytes end it.
    static func journal(in directory: String) -> (bytes: Int, zeroTail: Int) {
        let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: directory + "/state/ledger.journal"))) ?? Data())
        return (bytes.count, bytes.reversed().prefix { $0 == 0 }.count)
    }

    @Test func tasksGoOnWhenTheZeroedSpaceCannotBeWrittenAndItIsBackOnceTheLimitIsGone() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await h.configuration("fsize", script: "cat", grace: "5s")
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let limited = try h.start(config: config, notify: notify, fileSizeLimit: Self.limit)
            defer { if limited.isRunning { kill(limited.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            var ids: [String] = []
            for n in 0..<20 { ids.append(try await h.admin.submitTask(activityArn: arn, input: #"{"n":\#(n)}"#)) }
            for (n, id) in ids.enumerated() {
                let state = try await h.finished(id, notify: notify, timeout: .seconds(20))
                #expect(state.status == "SUCCEEDED" && state.output == #"{"n":\#(n)}"#, "\(state.error ?? "") \(h.daemonLog)")
            }
            let cut = Self.journal(in: h.directory.path)
            #expect(cut.bytes > 0 && cut.bytes < Self.limit, "\(cut)")
            #expect(cut.zeroTail < 64, "no zeroed space ahead under the limit: \(cut)")
            #expect(await h.stop(limited, notify: notify) == 0, "\(h.daemonLog)")
            #expect(h.stateLeftovers == [])

            let again = try NotifySocket(path: h.directory.path + "/notify-again")
            let free = try h.start(config: config, notify: again)
            defer { if free.isRunning { kill(free.processIdentifier, SIGKILL) } }
            #expect(await again.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            let after = try await h.admin.submitTask(activityArn: arn, input: #"{"after":true}"#)
            #expect(try await h.finished(after, notify: again, timeout: .seconds(20)).status == "SUCCEEDED")
            let grown = try await waitUntil(timeout: .seconds(10)) { Self.journal(in: h.directory.path).zeroTail >= Self.leastZeroedAhead }
            #expect(grown, "zeroed space ahead again: \(Self.journal(in: h.directory.path))")
            #expect(await h.stop(free, notify: again) == 0, "\(h.daemonLog)")
        }
    }
}
