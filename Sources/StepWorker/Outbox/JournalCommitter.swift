import Dispatch
import Glibc
import POSIXSupport

/// The journal's one writer: a thread of its own that takes every record queued while its
/// previous batch ran (`CommitQueue`), writes them in one `write`, `fdatasync`s if any of them
/// must be durable, then resumes all their writers. A writer waits in an `async` call, holding
/// no thread: the disk work never runs on Swift's cooperative pool, and as many records can
/// share a sync as there are tasks ready at once. The fold of the records (`LedgerState`) is
/// updated in the order they are queued, so a compaction's snapshot is what the file holds
/// once the batch is written. Whole-file work (`recover`) runs on the same thread, between
/// batches, so the file has one owner.
final class JournalCommitter: @unchecked Sendable {
    typealias Waiter = CheckedContinuation<Void, any Error>

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var queue = CommitQueue<Waiter>()
    private var jobs: [() -> Void] = []
    private var state: LedgerState
    private var stopping = false
    // The committer thread's alone.
    private var file: JournalFile
    private let compactAbove: Int

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
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            lock.lock()
            state.apply(record)
            queue.enqueue(bytes, sync: sync, waiter: waiter)
            lock.signal()
            lock.unlock()
        }
    }

    /// Runs `body` on the committer's thread with the file to itself, makes the state it
    /// returns the ledger's, and returns its value. Blocks the caller until then.
    func exclusively<T>(_ body: @escaping (inout JournalFile) throws(DurableFileError) -> (LedgerState, T)) throws(DurableFileError) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<T, DurableFileError>?
        lock.lock()
        jobs.append { [self] in
            let result = Result { () throws(DurableFileError) in try body(&file) }
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
            while queue.isEmpty && jobs.isEmpty && !stopping { lock.wait() }
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                lock.unlock()
                job()
                lock.lock()
                continue
            }
            guard let batch = queue.takeBatch() else { break }  // stopping, and nothing left
            let snapshot = file.wantsCompaction(above: compactAbove) ? state : nil
            lock.unlock()
            let failure = write(batch, compacting: snapshot)
            for waiter in batch.waiters {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
            lock.lock()
        }
        lock.unlock()
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
            try file.append(batch.bytes, sync: batch.sync)
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
        pthread_cond_init(condition, nil)
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
    func signal() { pthread_cond_signal(condition) }
}
