import Dispatch
import Glibc
import POSIXSupport

/// The journal's one writer: a thread of its own that takes every record queued while its
/// previous batch ran (`CommitQueue`), writes them in one `write`, `fdatasync`s if any of them
/// must be durable, then resumes all their writers. A writer waits in an `async` call, holding
/// no thread: the disk work never runs on Swift's cooperative pool, and as many records can
/// share a sync as there are tasks ready at once. A record nobody needs to wait for (a cleared
/// one) is queued with `enqueue` instead: its writer goes on at once, the record is written
/// with the next batch, or `lingerMilliseconds` after it was queued if no batch comes first (the
/// thread is woken for it only when the journal has been idle that long), and a failure goes to
/// the writer's handler. The fold of the records (`LedgerState`) is updated in the order they
/// are queued, so a compaction's snapshot is what the file holds once the batch is written.
/// Whole-file work (`recover`) runs on the same thread after the records queued before it, so
/// the file has one owner. After each batch or job, once its writers are told, the thread
/// writes zeroed space ahead of the records when little is left (`JournalFile.keepZeroedAhead`).
final class JournalCommitter: @unchecked Sendable {
    /// Who hears that a record's batch was written.
    enum Waiter {
        /// A writer suspended in `submit` or `flush`.
        case task(CheckedContinuation<Void, any Error>)
        /// A writer that went on (`enqueue`): told only of a failure.
        case detached(@Sendable (DurableFileError) -> Void)
    }

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var queue = CommitQueue<Waiter>()
    private var jobs: [() -> Void] = []
    private var state: LedgerState
    private var stopping = false
    /// The committer sleeps without a deadline: any record queued must wake it.
    private var sleepsUntilWoken = false
    // The committer thread's alone.
    private var lastBatch: Int64?
    private var file: JournalFile
    private let compactAbove: Int

    /// How long a record nobody waits for may wait for a batch to ride with, and how long after a
    /// batch the journal counts as busy (such a record then wakes nobody). A crash inside it
    /// loses at most the cleared records of that long: their results are sent again after the
    /// restart and refused as finished (docs/daemon.md).
    static let lingerMilliseconds: Int64 = 50

    init(file: JournalFile, state: LedgerState, compactAbove: Int) throws(SystemCallError) {
        self.file = file
        self.state = state
        self.compactAbove = compactAbove
        try DetachedThread.start(name: "ledger-journal") { [self] in run() }  // holds the committer until `stop()`
    }

    deinit {
        file.close()
    }

    /// Queues `record` and returns once it is written (and, with `sync`, durable), or throws the
    /// error its batch met.
    func submit(_ record: JournalRecord, sync: Bool) async throws {
        let bytes = JournalFormat.encode(record)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            add(record, bytes, sync: sync, waiter: .task(continuation))
        }
    }

    /// Queues `record`, not to be synced, and returns at once; it is written with the next
    /// batch, or alone `lingerMilliseconds` from now if none comes first. `onFailure` hears, on
    /// the committer's thread, the error that batch met.
    func enqueue(_ record: JournalRecord, onFailure: @escaping @Sendable (DurableFileError) -> Void) {
        add(record, JournalFormat.encode(record), sync: false, awaited: false, waiter: .detached(onFailure))
    }

    /// Returns once every record queued before the call is written (a batch without bytes of
    /// its own, when nothing else is queued). For a clean stop and for tests reading the file.
    func flush() async {
        // Its batch's failure, if any, is told to the writers of the records in it.
        try? await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            add(nil, [], sync: false, waiter: .task(continuation))
        }
    }

    private func add(_ record: JournalRecord?, _ bytes: [UInt8], sync: Bool, awaited: Bool = true, waiter: Waiter) {
        let now = awaited ? 0 : POSIX.nowMilliseconds()
        lock.lock()
        if let record { state.apply(record) }
        queue.enqueue(bytes, sync: sync, awaited: awaited, now: now, waiter: waiter)
        if awaited || sleepsUntilWoken { lock.signal() }
        lock.unlock()
    }

    /// Runs `body` on the committer's thread with the file to itself and the ledger's state (the
    /// file's records folded, with every record queued before the call, which is written by
    /// then), makes the state it returns the ledger's, and returns its value. Blocks the caller
    /// until then.
    func exclusively<T>(
        _ body: @escaping (inout JournalFile, LedgerState) throws(DurableFileError) -> (LedgerState, T)
    ) throws(DurableFileError) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<T, DurableFileError>?
        lock.lock()
        jobs.append { [self] in
            lock.lock()
            let current = state
            lock.unlock()
            let result = Result { () throws(DurableFileError) in try body(&file, current) }
            if case .success(let (state, _)) = result {
                lock.lock()
                self.state = state
                lock.unlock()
            }
            outcome = result.map(\.1)
            done.signal()
        }
        lock.signal()
        lock.unlock()
        done.wait()
        return try outcome!.get()
    }

    /// Lets the thread end once everything queued is written (when the ledger is let go).
    func stop() {
        lock.lock()
        stopping = true
        lock.signal()
        lock.unlock()
    }

    private func run() {
        lock.lock()
        while true {
            waiting: while jobs.isEmpty && !stopping {
                switch queue.next(now: POSIX.nowMilliseconds(), lastBatch: lastBatch, linger: Self.lingerMilliseconds) {
                case .write:
                    break waiting
                case .sleep(let deadline):
                    lock.wait(untilMilliseconds: deadline)
                case .sleepUntilWoken:
                    sleepsUntilWoken = true
                    lock.wait()
                    sleepsUntilWoken = false
                }
            }
            if let batch = queue.takeBatch() {
                let snapshot = file.wantsCompaction(above: compactAbove) ? state : nil
                lock.unlock()
                let failure = write(batch, compacting: snapshot)
                lastBatch = POSIX.nowMilliseconds()
                for waiter in batch.waiters { Self.tell(waiter, failure) }
                file.keepZeroedAhead()
                lock.lock()
                continue
            }
            // A job sees every record queued before it, written (`recover` folds them into what it rewrites).
            guard !jobs.isEmpty else { break }  // stopping, and nothing left
            let job = jobs.removeFirst()
            lock.unlock()
            job()
            file.keepZeroedAhead()
            lock.lock()
        }
        lock.unlock()
    }

    private static func tell(_ waiter: Waiter, _ failure: DurableFileError?) {
        switch (waiter, failure) {
        case (.task(let continuation), nil): continuation.resume()
        case (.task(let continuation), let failure?): continuation.resume(throwing: failure)
        case (.detached, nil): break
        case (.detached(let onFailure), let failure?): onFailure(failure)
        }
    }

    private func write(_ batch: CommitQueue<Waiter>.Batch, compacting snapshot: LedgerState?) -> DurableFileError? {
        do throws(DurableFileError) {
            if let snapshot {
                do throws(DurableFileError) {
                    try file.replace(with: snapshot)
                    return nil
                } catch {
                    // The old journal is whole: keep appending to it, and compact another time.
                }
            }
            if !batch.bytes.isEmpty { try file.append(batch.bytes, sync: batch.sync) }
            return nil
        } catch {
            return error
        }
    }
}

/// A pthread mutex with one condition variable (what `NSCondition` is, without Foundation):
/// `wait()` releases the lock while it sleeps and holds it again when it returns.
private final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        // Deadlines on the monotonic clock (`POSIX.nowMilliseconds`), not the wall clock.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func wait() { pthread_cond_wait(condition, mutex) }
    /// `wait()` that also returns at `deadline` (milliseconds on the monotonic clock).
    func wait(untilMilliseconds deadline: Int64) {
        var time = timespec(tv_sec: Int(deadline / 1000), tv_nsec: Int(deadline % 1000) * 1_000_000)
        _ = pthread_cond_timedwait(condition, mutex, &time)
    }
    func signal() { pthread_cond_signal(condition) }
}
