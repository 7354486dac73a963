/// What the journal's committer takes next, and when, without threads or a disk
/// (`JournalCommitter` keeps it under its lock). Writers queue their record's bytes with a
/// waiter; the committer takes everything queued while its previous batch ran, writes it in one
/// `write` and, if any record in it must be durable, one `fdatasync`, then resumes every waiter
/// of the batch.
///
/// A record nobody waits for (a cleared one) does not start a batch while the journal is busy:
/// it rides with the next record someone waits for, or goes alone `linger` after it was queued.
/// Waking the committer for it alone was a quarter of its batches at c16 (docs/benchmark.md,
/// "3 December 2026, night").
struct CommitQueue<Waiter> {
    struct Batch {
        var bytes: [UInt8]
        /// Whether anything in it must be durable before its writer goes on.
        var sync: Bool
        /// In the order their records were queued.
        var waiters: [Waiter]
    }

    /// What the committer does next with what is queued.
    enum Next: Equatable {
        /// Take the batch and write it.
        case write
        /// Sleep until this time (milliseconds on the monotonic clock) unless woken earlier.
        case sleep(until: Int64)
        /// Sleep until woken: every record queued wakes it.
        case sleepUntilWoken
    }

    private var bytes: [UInt8] = []
    private var sync = false
    private var waiters: [Waiter] = []
    /// Whether a writer waits for this batch.
    private var awaited = false
    /// When the first record nobody waits for was queued.
    private var lingeringSince: Int64?

    init() {}

    var isEmpty: Bool { waiters.isEmpty }

    /// Queues `bytes` (one record); `sync`: the batch that carries them is synced. `awaited`:
    /// its writer waits for the batch; `now`: the time, for a record nobody waits for.
    mutating func enqueue(_ bytes: [UInt8], sync: Bool, awaited: Bool = true, now: Int64 = 0, waiter: Waiter) {
        self.bytes += bytes
        self.sync = self.sync || sync
        waiters.append(waiter)
        if awaited {
            self.awaited = true
        } else if lingeringSince == nil {
            lingeringSince = now
        }
    }

    /// Everything queued, as one batch; the queue starts again empty.
    mutating func takeBatch() -> Batch? {
        guard !waiters.isEmpty else { return nil }
        defer {
            bytes = []
            sync = false
            waiters = []
            awaited = false
            lingeringSince = nil
        }
        return Batch(bytes: bytes, sync: sync, waiters: waiters)
    }

    /// What the committer does at `now`, its last batch written at `lastBatch`: write at once
    /// for a waiting writer; records nobody waits for wait `linger` for company; and while a
    /// batch was written less than `linger` ago the journal counts as busy, so the committer
    /// sleeps with a deadline and a record nobody waits for need not wake it.
    func next(now: Int64, lastBatch: Int64?, linger: Int64) -> Next {
        if awaited { return .write }
        if let lingeringSince {
            return now >= lingeringSince + linger ? .write : .sleep(until: lingeringSince + linger)
        }
        if let lastBatch, now < lastBatch + linger { return .sleep(until: lastBatch + linger) }
        return .sleepUntilWoken
    }
}
