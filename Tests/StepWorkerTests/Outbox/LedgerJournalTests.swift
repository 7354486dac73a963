import Dispatch
import Foundation
import StepFunctions
import StepWorkerTestKit
@testable import StepWorker
import Testing

@Suite(.timeLimit(.minutes(1))) struct LedgerJournalTests {
    let directory: String
    let arn = "arn:aws:states:us-east-1:123456789012:activity:a"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)").path
    }

    func token(_ n: Int) -> TaskToken {
        TaskToken("token-\(n)-" + String(repeating: "x", count: 500))
    }

    /// A cleared record's failure handler: a test's journal never fails to write.
    let fail: @Sendable (any Error) -> Void = { Issue.record("a cleared record failed: \($0)") }

    var journalBytes: [UInt8] { get throws { Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/ledger.journal"))) } }
    /// Where the journal's records end (zeroed space follows).
    var journalEnd: Int { get throws { JournalFormat.parse(try journalBytes).end } }

    @Test func aStoredResultSurvivesARestartUntilAcknowledged() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.recordStarted(token: token(1), activityArn: arn)
        try await ledger.store(.success(output: #"{"a":1}"#), token: token(1), activityArn: arn)

        let restarted = try LedgerJournal(stateDirectory: directory)
        let recovered = try restarted.recover()
        #expect(recovered.pending == [PendingResult(token: token(1), activityArn: arn, result: .success(output: #"{"a":1}"#))])
        #expect(recovered.unreadable.isEmpty)

        restarted.acknowledge(token: token(1), failed: fail)
        await restarted.flush()
        #expect(try LedgerJournal(stateDirectory: directory).recover().pending.isEmpty)
    }

    /// A cleared record is not waited for, but the journal's own reads (`recover`) come after
    /// every record queued before them.
    @Test func aClearedRecordNobodyWaitedForIsSeenByTheNextRecovery() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        for n in 20..<30 {
            try await ledger.store(.success(output: "\(n)"), token: token(n), activityArn: arn)
            ledger.acknowledge(token: token(n), failed: fail)
        }
        #expect(try ledger.recover().pending.isEmpty)
        #expect(LedgerJournal.kept(stateDirectory: directory).isEmpty)
    }

    /// With nothing else to carry it, a cleared record is written on its own once it has waited
    /// `JournalCommitter.lingerMilliseconds`, without a flush.
    @Test func aLoneClearedRecordIsWrittenAfterTheLinger() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.store(.success(output: "1"), token: token(1), activityArn: arn)
        let stored = try journalEnd
        let queued = ContinuousClock.now
        ledger.acknowledge(token: token(1), failed: fail)
        #expect(try await waitUntil(timeout: .seconds(5)) { try journalEnd > stored })
        #expect(ContinuousClock.now - queued < .seconds(2))
        #expect(try ledger.recover().pending.isEmpty)
    }

    /// Records are written over zeroed space kept ahead of them, so a sync has no file size to
    /// commit; a restart goes on where the records end, not at the end of the file.
    @Test func recordsGoOverZeroedSpaceAndARestartGoesOnWhereTheyEnd() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.store(.success(output: "1"), token: token(1), activityArn: arn)
        try await ledger.store(.success(output: "2"), token: token(2), activityArn: arn)
        await ledger.flush()  // the zeros are written after a batch's writers are told
        let bytes = try journalBytes
        let end = try journalEnd
        #expect(bytes.count >= end + JournalFile.refillBelow, "zeroed space ahead: \(bytes.count) bytes for \(end) of records")
        #expect(bytes[end...].allSatisfy { $0 == 0 })

        let restarted = try LedgerJournal(stateDirectory: directory)
        try await restarted.store(.success(output: "3"), token: token(3), activityArn: arn)
        #expect(try journalBytes.count == bytes.count, "written over the zeros, the file did not grow")
        let pending = try LedgerJournal(stateDirectory: directory).recover().pending
        #expect(Set(pending.map(\.token)) == [token(1), token(2), token(3)])
    }

    /// A record a crash tore in the zeroed space (part of it written, the rest still zeros):
    /// the next start writes after it, recovers every whole record and keeps the torn bytes aside.
    @Test func aRecordTornInTheZeroedSpaceIsKeptAsideAndTheNextRecordsFollowIt() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.store(.success(output: "1"), token: token(1), activityArn: arn)
        await ledger.flush()
        let end = try journalEnd
        var bytes = try journalBytes
        let torn = JournalFormat.encode(.result(token: token(2), activityArn: arn, .success(output: "2"))).prefix(100)
        bytes.replaceSubrange(end..<end + torn.count, with: torn)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/ledger.journal"))

        let restarted = try LedgerJournal(stateDirectory: directory)
        try await restarted.store(.success(output: "3"), token: token(3), activityArn: arn)
        let recovered = try LedgerJournal(stateDirectory: directory).recover()
        #expect(Set(recovered.pending.map(\.token)) == [token(1), token(3)])
        #expect(recovered.unreadable.count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/ledger.journal.1.corrupt")) == Data(torn))
    }

    @Test func aTaskLeftRunningBecomesWorkerInterrupted() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.recordStarted(token: token(2), activityArn: arn)
        try await ledger.recordStarted(token: token(3), activityArn: arn)
        try await ledger.store(.failure(error: "Handler.Failed", cause: "exit 1"), token: token(3), activityArn: arn)

        let pending = try LedgerJournal(stateDirectory: directory).recover().pending
        #expect(pending.count == 2)
        let interrupted = try #require(pending.first { $0.token == token(2) })
        #expect(interrupted.result == WorkerFailure.interrupted())
        #expect(pending.first { $0.token == token(3) }?.result == .failure(error: "Handler.Failed", cause: "exit 1"))
        // The journal now holds the interrupted task's result: a second start sends the same one.
        #expect(try LedgerJournal(stateDirectory: directory).recover().pending == pending)
    }

    @Test func aResultIsNeverReplacedByARunningRecordACrashBroughtBack() {
        let state = LedgerState([
            .started(token: token(7), activityArn: arn),
            .result(token: token(7), activityArn: arn, .success(output: "7")),
            .started(token: token(7), activityArn: arn),
        ])
        #expect(state.pending.map(\.result) == [.success(output: "7")])
    }

    @Test func aForgottenTaskLeavesNothing() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.recordStarted(token: token(4), activityArn: arn)
        ledger.forget(token: token(4), failed: fail)
        await ledger.flush()
        #expect(LedgerJournal.kept(stateDirectory: directory).isEmpty)
        #expect(try ledger.recover().pending.isEmpty)
    }

    @Test func theJournalIsPrivateAndHoldsNoFileNamedByToken() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.store(.success(output: "1"), token: token(6), activityArn: arn)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["ledger.journal"])
        let fileMode = try FileManager.default.attributesOfItem(atPath: "\(directory)/ledger.journal")[.posixPermissions] as? Int
        let directoryMode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(directoryMode == 0o700)
        _ = try ledger.recover()  // the compacted journal too
        let compactedMode = try FileManager.default.attributesOfItem(atPath: "\(directory)/ledger.journal")[.posixPermissions] as? Int
        #expect(compactedMode == 0o600)
    }

    @Test func anUnwritableStateDirectoryIsAClearError() throws {
        let error = try #require(throws: DurableFileError.self) {
            _ = try LedgerJournal(stateDirectory: "/proc/stepworker-cannot-be-here")
        }
        #expect(error.description.contains("/proc/stepworker-cannot-be-here"))
    }

    /// A torn or damaged journal never stops a start: what checks out is recovered, the rest
    /// is copied aside as `ledger.journal.N.corrupt` and named.
    @Test func aCorruptRecordInTheMiddleIsKeptAsideAndTheRestRecovered() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        for n in 10..<13 { try await ledger.store(.success(output: "\(n)"), token: token(n), activityArn: arn) }
        var bytes = try journalBytes
        let second = JournalFormat.encode(.result(token: token(10), activityArn: arn, .success(output: "10"))).count
        bytes[second + 40] ^= 0x10  // inside the second record
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/ledger.journal"))

        let recovered = try LedgerJournal(stateDirectory: directory).recover()
        #expect(recovered.pending.map(\.result) == [.success(output: "10"), .success(output: "12")])
        #expect(recovered.unreadable.count == 1)
        #expect(recovered.unreadable.first?.contains("ledger.journal.1.corrupt") == true)
        #expect(FileManager.default.fileExists(atPath: "\(directory)/ledger.journal.1.corrupt"))
        // The rewritten journal is clean: the next start reports nothing unreadable.
        #expect(try LedgerJournal(stateDirectory: directory).recover().unreadable.isEmpty)
    }

    @Test func concurrentWritersAllBecomeDurable() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory, compactAbove: 16 << 10)
        await withTaskGroup(of: Void.self) { group in
            for n in 0..<64 {
                group.addTask {
                    try? await ledger.recordStarted(token: token(n), activityArn: arn)
                    try? await ledger.store(.success(output: "\(n)"), token: token(n), activityArn: arn)
                    if n % 2 == 0 { ledger.acknowledge(token: token(n), failed: fail) }
                }
            }
        }
        await ledger.flush()
        // The journal was compacted on the way (16 KiB limit); every odd task's result is kept.
        let pending = try LedgerJournal(stateDirectory: directory).recover().pending
        #expect(Set(pending.map(\.token)) == Set((0..<64).filter { $0 % 2 == 1 }.map(token)))
        #expect(pending.allSatisfy { $0.result != WorkerFailure.interrupted() })
    }

    @Test func compactionKeepsOnlyWhatIsLive() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory, compactAbove: 8 << 10)
        try await ledger.store(.success(output: "kept"), token: token(1), activityArn: arn)
        for n in 100..<160 {
            try await ledger.recordStarted(token: token(n), activityArn: arn)
            try await ledger.store(.success(output: "\(n)"), token: token(n), activityArn: arn)
            ledger.acknowledge(token: token(n), failed: fail)
        }
        await ledger.flush()
        #expect(try journalEnd < 16 << 10, "compacted on the way")
        #expect(LedgerJournal.kept(stateDirectory: directory) == [token(1).fingerprint])
    }

    /// Compaction's crash points: a kill or power cut before the rename leaves the old journal
    /// whole next to a temporary file (removed at start); after it, the new journal whole.
    @Test func aCompactionInterruptedBeforeItsRenameLeavesTheOldJournal() async throws {
        let ledger = try LedgerJournal(stateDirectory: directory)
        try await ledger.recordStarted(token: token(1), activityArn: arn)
        try await ledger.store(.success(output: "1"), token: token(2), activityArn: arn)
        let whole = JournalFormat.encode(.result(token: token(2), activityArn: arn, .success(output: "1")))
        for cut in [0, 5, whole.count / 2, whole.count] {
            try Data(whole.prefix(cut)).write(to: URL(fileURLWithPath: "\(directory)/.tmp-1-\(cut)"))
        }
        let recovered = try LedgerJournal(stateDirectory: directory).recover()
        #expect(Set(recovered.pending.map(\.token)) == [token(1), token(2)])
        #expect(recovered.unreadable.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["ledger.journal"])
    }

    /// An upgrade from the one-file-per-task layout (`inflight/`) and the first one (`outbox/`):
    /// every record is taken into the journal and the old files removed.
    @Test func aStateDirectoryOfTheEarlierFormatsIsTakenIn() async throws {
        try LegacyLedgerFiles.write(.started(token: token(1), activityArn: arn), stateDirectory: directory)
        try LegacyLedgerFiles.write(.result(token: token(2), activityArn: arn, .success(output: "2")), stateDirectory: directory)
        // What the first format left after a crash between its two steps: a result in outbox/
        // and the running record in inflight/.
        try LegacyLedgerFiles.write(.started(token: token(3), activityArn: arn), stateDirectory: directory)
        try FileManager.default.createDirectory(atPath: "\(directory)/outbox", withIntermediateDirectories: true)
        let legacy = #"{"version":1,"token":"\#(token(3).rawValue)","activityArn":"\#(arn)","result":{"status":"SUCCEEDED","output":"3"}}"#
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: "\(directory)/outbox/\(token(3).fingerprint).json"))
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: "\(directory)/outbox/0123456789abcdef.json"))
        try Data("half a rec".utf8).write(to: URL(fileURLWithPath: "\(directory)/inflight/.tmp-1234-5678"))

        let ledger = try LedgerJournal(stateDirectory: directory)
        let recovered = try ledger.recover()
        let expected = [
            PendingResult(token: token(1), activityArn: arn, result: WorkerFailure.interrupted()),
            PendingResult(token: token(2), activityArn: arn, result: .success(output: "2")),
            PendingResult(token: token(3), activityArn: arn, result: .success(output: "3")),
        ]
        #expect(recovered.pending == expected.sorted { $0.token.fingerprint < $1.token.fingerprint })
        #expect(recovered.unreadable == ["\(directory)/outbox/0123456789abcdef.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/inflight").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/outbox") == ["0123456789abcdef.json.corrupt"])
        // Now only the journal holds them: acknowledged there, they stay gone.
        for n in 1...3 { ledger.acknowledge(token: token(n), failed: fail) }
        await ledger.flush()
        #expect(try LedgerJournal(stateDirectory: directory).recover().pending.isEmpty)
    }
}

