import Glibc
import POSIXSupport
package import StepFunctions

/// The ledger's records on disk (`TaskLedger` is the only user): one journal, `ledger.journal` in
/// the state directory (format in `JournalFormat`), each record written where the last ended
/// (over zeroed space kept ahead, `JournalFile`), whose records fold into what is kept
/// (`LedgerState`).
///
/// A task's started record is appended when the task is received, its result before the first
/// send, and a cleared record once the service acknowledged the result or said the token is
/// dead. Started records and results are durable before the call returns; records that are
/// ready together share one write and one `fdatasync` (group commit, `JournalCommitter`, on a
/// thread of its own: a caller waits without holding a thread). Cleared records are written
/// with the next batch but neither synced nor waited for: one a crash loses brings the result
/// back, sent again and refused by the service as finished, never an older "running" state (a
/// result is never replaced by a running record, `LedgerState.apply`). `flush()` waits for
/// them, at a clean stop.
///
/// Once the journal has grown past `compactAbove` (and twice its size after the last
/// compaction), the committer rewrites it with one record per kept task: a new file fsynced,
/// renamed over the journal, the directory fsynced. A crash at any point leaves the old journal
/// or the new one, whole. The journal is opened and read once, when the ledger is made
/// (`JournalOpening`: without blocking, anything but a regular file of at most `maxSize` bytes
/// moved aside unread); at start `recover()` copies whatever did not check out aside
/// (`ledger.journal.N.corrupt`) and names it, tasks left running become `Worker.Interrupted`,
/// the layouts of earlier versions (`inflight/`, `outbox/`) are taken in and removed, and the
/// journal is rewritten.
///
/// Records hold whole task tokens, which the service needs; the state directory is mode 0700
/// and the journal 0600.
package final class LedgerJournal: LedgerStorage, @unchecked Sendable {
    package let stateDirectory: String
    package let journalPath: String
    private let committer: JournalCommitter
    /// What opening the journal found that `recover()` reports (damaged bytes, a file moved
    /// aside): reported once. Only `recover()`, on the committer's thread, touches it.
    private var found: JournalFile.Found
    private let maxSize: Int

    /// The most a journal can hold that the daemon wrote, for `concurrency` tasks at once (every
    /// activity's): a task keeps one record, at most 512 KiB (256 KiB of output, 32 Ki
    /// characters of cause, token, ARN); the file grows to twice its compacted size before it
    /// is rewritten, and the results of an earlier run may be kept next to this run's tasks
    /// (4 × records), plus 64 MiB for compaction's 4 MiB threshold, zeroed space ahead, a batch
    /// and a wide margin. A larger file was not written by the daemon: reading it would only
    /// let its writer stall the start or fill the memory. At least 64 tasks are counted, so a
    /// restart with a lower `concurrency` than the run that left results still reads them
    /// (192 MiB: a thousand results of up to 96 KiB each).
    package static func maxSize(concurrency: Int) -> Int {
        (64 << 20) + 4 * max(concurrency, 64) * (512 << 10)
    }

    /// Uses (and creates) `ledger.journal` under `stateDirectory`, reading it once. Records
    /// already in it stay (a later compaction keeps them); `recover()` turns them into results
    /// to send. A journal larger than `maxSize`, or not a regular file, is moved aside unread.
    /// `stop`, asked while the journal is read, gives the start up (ECANCELED).
    package init(
        stateDirectory: String, compactAbove: Int = 4 << 20, maxSize: Int = LedgerJournal.maxSize(concurrency: 1),
        stop: () -> Bool = { false }
    ) throws(DurableFileError) {
        Self.ignoreFileSizeSignal
        self.stateDirectory = stateDirectory
        journalPath = stateDirectory + "/ledger.journal"
        try DurableFile.makeDirectory(stateDirectory)
        let (file, found) = try JournalFile.open(journalPath, in: stateDirectory, maxSize: maxSize, stop: stop)
        var reported = found
        reported.parsed.records = []  // folded into the state below
        self.found = reported
        self.maxSize = maxSize
        do throws(SystemCallError) {
            committer = try JournalCommitter(file: file, state: LedgerState(found.parsed.records), compactAbove: compactAbove)
        } catch {
            throw DurableFileError(operation: error.call, path: journalPath, errno: error.errno)
        }
    }

    deinit {
        committer.stop()
    }

    /// A file-size limit (RLIMIT_FSIZE, systemd's `LimitFSIZE=`) sends SIGXFSZ to the thread whose
    /// write crosses it, which kills the daemon unless that thread blocks it. The journal's
    /// thread happens to block every signal (it inherits a pool thread's mask); ignoring it makes
    /// that write fail with EFBIG whichever thread writes, and the journal takes EFBIG as it
    /// takes a full disk's ENOSPC. Handlers get default dispositions back (`LaunchPlan.spawn`
    /// resets them all).
    private static let ignoreFileSizeSignal: Void = {
        _ = signal(SIGXFSZ, SIG_IGN)
    }()

    package func recordStarted(token: TaskToken, activityArn: String) async throws {
        try await committer.submit(.started(token: token, activityArn: activityArn), sync: true)
    }

    package func store(_ result: TaskResult, token: TaskToken, activityArn: String) async throws {
        try await committer.submit(.result(token: token, activityArn: activityArn, result), sync: true)
    }

    package func acknowledge(token: TaskToken, failed: @escaping @Sendable (any Error) -> Void) {
        committer.enqueue(.cleared(fingerprint: token.fingerprint)) { failed($0) }
    }

    package func forget(token: TaskToken, failed: @escaping @Sendable (any Error) -> Void) {
        committer.enqueue(.cleared(fingerprint: token.fingerprint)) { failed($0) }
    }

    package func flush() async {
        await committer.flush()
    }

    /// Works from what opening the journal read (the ledger's state: its records and every one
    /// written since), not from a second read of the file; unless the journal at the path is no
    /// longer the file this ledger opened (another ledger on the directory replaced it, as tests
    /// do), which is then opened and read as at the start.
    package func recover() throws -> LedgerRecovery {
        let stateDirectory = stateDirectory, journalPath = journalPath, maxSize = maxSize
        return try committer.exclusively { (file: inout JournalFile, current: LedgerState) throws(DurableFileError) -> (LedgerState, LedgerRecovery) in
            DurableFile.removeLeftovers(in: stateDirectory)
            var found = self.found
            var state = current
            if !file.isStillAtItsPath() {
                let (fresh, again) = try JournalFile.open(journalPath, in: stateDirectory, maxSize: maxSize)
                file.close()
                file = fresh
                state = LedgerState(again.parsed.records)
                found = JournalFile.Found(parsed: again.parsed, unreadable: again.unreadable, movedAside: found.movedAside ?? again.movedAside)
            }
            var unreadable: [String] = []
            if !found.unreadable.isEmpty {
                let aside = try Self.keepAside(found.unreadable, next: journalPath)
                let ranges = found.parsed.unreadable
                unreadable.append(contentsOf: ranges.map { "\(journalPath) bytes \($0.lowerBound)..<\($0.upperBound) (kept in \(aside))" })
            }
            self.found = JournalFile.Found()
            let legacy = LegacyLedgerFiles.read(stateDirectory: stateDirectory)
            unreadable.append(contentsOf: legacy.unreadable)
            for record in legacy.records where state.entries[record.fingerprint]?.result == nil { state.apply(record) }
            state.interruptRunning()
            try file.replace(with: state)
            try LegacyLedgerFiles.remove(legacy.files)
            return (state, LedgerRecovery(pending: state.pending, unreadable: unreadable, journalMovedAside: found.movedAside))
        }
    }

    /// The fingerprints of the tasks the journal in `stateDirectory` keeps, unreadable bytes in
    /// it, and any other file (an earlier layout's, a temporary or `*.corrupt` one); read only,
    /// for tests that check a clean stop leaves nothing.
    package static func kept(stateDirectory: String) -> [String] {
        let parsed = (try? DurableFile.read(stateDirectory + "/ledger.journal")).map(JournalFormat.parse) ?? JournalFormat.Parsed()
        let others = ["", "/inflight", "/outbox"].flatMap { sub in
            ((try? DurableFile.names(in: stateDirectory + sub)) ?? []).filter { !["ledger.journal", "inflight", "outbox"].contains($0) }.map { "\(sub)/\($0)" }
        }
        return LedgerState(parsed.records).entries.keys.sorted() + parsed.unreadable.map { "unreadable bytes \($0)" } + others
    }

    /// Copies unreadable bytes to the first free `ledger.journal.N.corrupt`; returns its path.
    private static func keepAside(_ chunks: [[UInt8]], next journalPath: String) throws(DurableFileError) -> String {
        let path = JournalOpening.freeAsidePath(for: journalPath)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DurableFileError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        do throws(SystemCallError) {
            for chunk in chunks { try POSIX.writeAll(chunk, to: fd) }
        } catch {
            throw DurableFileError(operation: "write", path: path, errno: error.errno)
        }
        return path
    }
}
