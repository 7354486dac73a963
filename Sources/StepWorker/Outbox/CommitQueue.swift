/// What the journal's committer takes next, without threads or a disk (`JournalCommitter` keeps
/// it under its lock). Writers queue their record's bytes with a waiter; the committer takes
/// everything queued while its previous batch ran, writes it in one `write` and, if any record
/// in it must be durable, one `fdatasync`, then resumes every waiter of the batch.
struct CommitQueue<Waiter> {
    struct Batch {
        var bytes: [UInt8]
        /// Whether anything in it must be durable before its writer goes on.
        var sync: Bool
        /// In the order their records were queued.
        var waiters: [Waiter]
    }

    private var bytes: [UInt8] = []
    private var sync = false
    private var waiters: [Waiter] = []

    init() {}

    var isEmpty: Bool { waiters.isEmpty }

    /// Queues `bytes` (one record); `sync`: the batch that carries them is synced.
    mutating func enqueue(_ bytes: [UInt8], sync: Bool, waiter: Waiter) {
        self.bytes += bytes
        self.sync = self.sync || sync
        waiters.append(waiter)
    }

    /// Everything queued, as one batch; the queue starts again empty.
    mutating func takeBatch() -> Batch? {
        guard !waiters.isEmpty else { return nil }
        defer {
            bytes = []
            sync = false
            waiters = []
        }
        return Batch(bytes: bytes, sync: sync, waiters: waiters)
    }
}
