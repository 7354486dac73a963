/// The group commit's decisions, without threads or a disk (`JournalCommitter` runs it under
/// its lock). Writers queue their bytes and get a ticket; one committer at a time takes
/// everything queued, writes it in one write and, if any of it must be durable, one
/// `fdatasync`; then every ticket in that batch is done (or failed with the batch's error).
/// Bytes that need no sync (an acknowledgement) are written with the next batch; when nothing
/// durable is waiting, whoever leaves the committer's seat last writes them without a sync.
struct CommitQueue<Failure: Error & Sendable>: Sendable {
    struct Batch: Equatable, Sendable {
        var bytes: [UInt8]
        /// The tickets the batch holds: `first...last`.
        var first: UInt64
        var last: UInt64
        /// Whether anything in it must be durable before its writer goes on.
        var sync: Bool
    }

    enum Outcome: Equatable {
        case waiting
        case done
        case failed(Failure)

        static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case (.waiting, .waiting), (.done, .done), (.failed, .failed): true
            default: false
            }
        }
    }

    private var queued: [UInt8] = []
    private var queuedFirst: UInt64 = 1
    private var queuedSync = false
    private var nextTicket: UInt64 = 1
    /// Every ticket up to here is written (and synced where asked).
    private(set) var finishedThrough: UInt64 = 0
    /// A committer holds the file.
    private(set) var committing = false
    /// The batches that failed lately, for their writers to find (kept while any may be waiting).
    private var failures: [(first: UInt64, last: UInt64, error: Failure)] = []
    private static var failuresKept: Int { 256 }

    init() {}

    /// Queues `bytes`; `sync`: the writer waits until they are durable.
    mutating func enqueue(_ bytes: [UInt8], sync: Bool) -> UInt64 {
        if queued.isEmpty { queuedFirst = nextTicket }
        queued += bytes
        queuedSync = queuedSync || sync
        defer { nextTicket += 1 }
        return nextTicket
    }

    /// Whether bytes wait that no durable writer will come for: the last committer writes them.
    var hasUnsyncedLeftovers: Bool { !committing && !queued.isEmpty && !queuedSync }

    /// Takes the committer's seat and everything queued, unless someone holds it or nothing waits.
    mutating func takeBatch() -> Batch? {
        guard !committing, !queued.isEmpty else { return nil }
        committing = true
        let batch = Batch(bytes: queued, first: queuedFirst, last: nextTicket - 1, sync: queuedSync)
        queued = []
        queuedSync = false
        return batch
    }

    /// Takes the seat with nothing in hand (for work on the whole file), if it is free.
    mutating func takeSeat() -> Bool {
        guard !committing else { return false }
        committing = true
        return true
    }

    mutating func leaveSeat() {
        committing = false
    }

    /// The batch is written (and synced), or failed with `error`; the seat is free again.
    mutating func finish(_ batch: Batch, error: Failure?) {
        committing = false
        finishedThrough = batch.last
        if let error {
            failures.append((batch.first, batch.last, error))
            if failures.count > Self.failuresKept { failures.removeFirst(failures.count - Self.failuresKept) }
        }
    }

    func outcome(of ticket: UInt64) -> Outcome {
        guard ticket <= finishedThrough else { return .waiting }
        if let failure = failures.last(where: { $0.first <= ticket && ticket <= $0.last }) { return .failed(failure.error) }
        return .done
    }
}
