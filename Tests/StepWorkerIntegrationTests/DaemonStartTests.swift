import Foundation
import StepFunctions
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit
import Testing

/// `stepworker run` as the built binary, with a state directory an attacker could write
/// (issue 32): whatever is at the journal's path, the start neither blocks nor stalls, and
/// SIGTERM is answered.
@Suite("stepworker run: a start that cannot be stalled", .timeLimit(.minutes(1)))
struct DaemonStartTests {
    /// A FIFO at the journal's path blocked the start for ever in `open` (for writing, waiting
    /// for a reader), and SIGTERM went unanswered: the stop it asked for waited for a
    /// supervisor that never came. Now the FIFO is moved aside unread, named in the log, the
    /// start goes on, and SIGTERM stops it.
    @Test func aFIFOAtTheJournalPathIsMovedAsideAndSIGTERMIsAnswered() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, _) = try await h.configuration("fifo", script: "cat", grace: "5s")
            let state = h.directory.path + "/state"
            #expect(mkdir(state, 0o700) == 0)
            #expect(mkfifo(state + "/ledger.journal", 0o600) == 0)
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor(timeout: .seconds(10)) { $0 == "READY=1" }, "\(h.daemonLog)")
            #expect(await h.stop(process, notify: notify, timeout: .seconds(10)) == 0, "SIGTERM unanswered: \(h.daemonLog)")
            #expect(h.daemonLog.contains("Ledger journal moved aside unread"), "\(h.daemonLog)")
            #expect(h.daemonLog.contains("\(state)/ledger.journal is a FIFO, not a regular file"), "\(h.daemonLog)")
            var aside = stat()
            #expect(lstat(state + "/ledger.journal.1.corrupt", &aside) == 0 && aside.st_mode & S_IFMT == S_IFIFO)
        }
    }

    /// 4 MiB of forged frame headers, each claiming 4 MiB of what follows, after a kept result:
    /// the start took 93 s (past systemd's start timeout), every restart. Now the result is
    /// recovered and the daemon ready in seconds.
    @Test func forgedFrameHeadersDoNotStallTheStart() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, arn) = try await h.configuration("forged", script: "cat", grace: "5s")
            let state = h.directory.path + "/state"
            do {
                let previous = try LedgerJournal(stateDirectory: state)
                try await previous.store(.success(output: #"{"kept":true}"#), token: TaskToken("a-previous-run"), activityArn: arn)
                await previous.flush()
            }
            try Self.appendForgedHeaders(to: state + "/ledger.journal", bytes: 4 << 20)

            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let started = ContinuousClock.now
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor(timeout: .seconds(40)) { $0 == "READY=1" }, "\(h.daemonLog)")
            let ready = ContinuousClock.now - started
            #expect(ready < .seconds(30), "\(ready)")  // about 2 s for this debug build
            #expect(h.daemonLog.contains("Delivering results left by a previous run"), "the kept result was read")
            #expect(h.daemonLog.contains("Unreadable ledger record moved aside"), "\(h.daemonLog)")
            #expect(await h.stop(process, notify: notify, timeout: .seconds(10)) == 0, "\(h.daemonLog)")
        }
    }

    /// A SIGTERM while the journal is read ends the start at once, as a clean stop (exit 0),
    /// the journal left as it was. 60 MiB of forged headers (within the bound for the two
    /// tasks configured) take this debug build about 25 s to read, and the stop waited for it.
    /// (A release build reads them too fast for a signal to land in the read: the tests run
    /// the debug one.)
    @Test func aSIGTERMWhileTheJournalIsReadStopsTheStartAtOnce() async throws {
        try await DaemonProcessTests.withHarness { h in
            let (config, _) = try await h.configuration("sigterm", script: "cat", grace: "5s")
            let state = h.directory.path + "/state"
            #expect(mkdir(state, 0o700) == 0)
            let journal = state + "/ledger.journal"
            let header = Array("SWL1".utf8) + [0x00, 0x00, 0x40, 0x00, 0xDE, 0xAD, 0xBE, 0xEF]  // claims 4 MiB
            let block = Data(Array([[UInt8]](repeating: header, count: 1 << 16).joined()))  // 768 KiB
            var contents = Data()
            for _ in 0..<80 { contents.append(block) }
            contents.append(Data(count: 4 << 20))
            try contents.write(to: URL(fileURLWithPath: journal))

            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(try await waitUntil(timeout: .seconds(20)) { h.daemonLog.contains("Using Step Functions") }, "\(h.daemonLog)")
            let asked = ContinuousClock.now
            #expect(await h.stop(process, notify: notify, timeout: .seconds(20)) == 0, "\(h.daemonLog)")
            #expect(ContinuousClock.now - asked < .seconds(10))  // about 1 s; generous for a loaded machine
            #expect(h.daemonLog.contains("Stopped during the start"), "\(h.daemonLog)")
            #expect(!notify.assignments.contains("READY=1"))
            let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int
            #expect(size == contents.count, "the journal is left as it was")
        }
    }

    /// Writes `bytes` of 12-byte frame headers where the records end, each claiming as much of
    /// the rest of the file (4 MiB more of zeros) as a frame may, with a checksum that does not hold.
    static func appendForgedHeaders(to path: String, bytes: Int) throws {
        var journal = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        while journal.last == 0 { journal.removeLast() }
        let total = journal.count + bytes + (4 << 20)
        let end = journal.count + bytes
        while journal.count + 12 <= end {
            let claim = UInt32(min(4 << 20, total - journal.count - 12))
            journal += Array("SWL1".utf8) + withUnsafeBytes(of: claim.littleEndian, Array.init) + [0xDE, 0xAD, 0xBE, 0xEF]
        }
        journal += [UInt8](repeating: 0, count: total - journal.count)
        try Data(journal).write(to: URL(fileURLWithPath: path))
    }
}
