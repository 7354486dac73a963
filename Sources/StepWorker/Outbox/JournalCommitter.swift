import Glibc

/// Group commit for the journal: `CommitQueue`'s decisions under a lock, the file work outside
/// it. A writer queues its record and, if no one is committing, commits everything queued
/// itself; otherwise it waits (a durable record) or goes on (an acknowledgement), and a
/// waiting writer takes the next batch when the seat is free. The state (`LedgerState`) is
/// updated in the order records are queued, so a compaction's snapshot is the file's state.
final class JournalCommitter: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var queue = CommitQueue<DurableFileError>()
    private var state: LedgerState
    // Touched only by the seat holder (`queue.committing`), outside the lock.
    private var file: JournalFile
    private let compactAbove: Int

    init(file: JournalFile, state: LedgerState, compactAbove: Int) {
        self.file = file
        self.state = state
        self.compactAbove = compactAbove
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        close(file.fd)
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Queues `record`; with `sync`, returns once it is durable (or throws the batch's error).
    func submit(_ record: JournalRecord, sync: Bool) throws(DurableFileError) {
        let bytes = JournalFormat.encode(record)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        state.apply(record)
        let ticket = queue.enqueue(bytes, sync: sync)
        while true {
            switch queue.outcome(of: ticket) {
            case .done:
                writeLeftovers()
                return
            case .failed(let error):
                writeLeftovers()
                throw error
            case .waiting:
                if let batch = queue.takeBatch() {
                    commit(batch)
                } else if !sync {
                    return  // the committer at work, or the next one, writes it
                } else {
                    pthread_cond_wait(condition, mutex)
                }
            }
        }
    }

    /// Runs `body` with the file to itself (no batch in progress), then makes its state the
    /// ledger's. For `recover()`.
    func exclusively<T>(_ body: (inout JournalFile) throws(DurableFileError) -> (LedgerState, T)) throws(DurableFileError) -> T {
        pthread_mutex_lock(mutex)
        while !queue.takeSeat() { pthread_cond_wait(condition, mutex) }
        pthread_mutex_unlock(mutex)
        let outcome = Result { () throws(DurableFileError) in try body(&file) }
        pthread_mutex_lock(mutex)
        if case .success(let (state, _)) = outcome { self.state = state }
        queue.leaveSeat()
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        return try outcome.get().1
    }

    /// With the lock held and the seat taken by `batch`: writes it (or compacts, which covers
    /// it) with the lock released, then wakes every waiter.
    private func commit(_ batch: CommitQueue<DurableFileError>.Batch) {
        let snapshot = file.wantsCompaction(above: compactAbove) ? state : nil
        pthread_mutex_unlock(mutex)
        var failure: DurableFileError?
        do throws(DurableFileError) {
            if let snapshot {
                do throws(DurableFileError) {
                    try file.replace(with: snapshot)
                } catch {
                    // The old journal is whole: keep appending to it, and compact another time.
                    try file.append(batch.bytes, sync: batch.sync)
                }
            } else {
                try file.append(batch.bytes, sync: batch.sync)
            }
        } catch {
            failure = error
        }
        pthread_mutex_lock(mutex)
        queue.finish(batch, error: failure)
        pthread_cond_broadcast(condition)
    }

    /// Acknowledgements queued while the last batch ran, with no durable writer to take them.
    private func writeLeftovers() {
        while queue.hasUnsyncedLeftovers, let batch = queue.takeBatch() { commit(batch) }
    }
}
