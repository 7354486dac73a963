import StepFunctions

/// What the ledger holds, as the fold of its journal's records: per task (by fingerprint), its
/// token and activity, and its result once kept. Pure: `LedgerJournal` applies every record it
/// writes and every record it reads at start.
struct LedgerState: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var token: TaskToken
        var activityArn: String
        var result: TaskResult?
    }

    private(set) var entries: [String: Entry] = [:]

    init() {}

    init(_ records: [JournalRecord]) {
        for record in records { apply(record) }
    }

    /// A result is never replaced by a running record: a result brought back by a crash is sent
    /// again (and refused as finished), never turned into `Worker.Interrupted`.
    mutating func apply(_ record: JournalRecord) {
        switch record {
        case .started(let token, let arn):
            let fingerprint = record.fingerprint
            if entries[fingerprint]?.result == nil { entries[fingerprint] = Entry(token: token, activityArn: arn, result: nil) }
        case .result(let token, let arn, let result):
            entries[record.fingerprint] = Entry(token: token, activityArn: arn, result: result)
        case .cleared(let fingerprint):
            entries[fingerprint] = nil
        }
    }

    /// One record per task that rebuilds this state (what compaction writes), by fingerprint.
    var records: [JournalRecord] {
        entries.sorted { $0.key < $1.key }.map { _, entry in
            if let result = entry.result {
                .result(token: entry.token, activityArn: entry.activityArn, result)
            } else {
                .started(token: entry.token, activityArn: entry.activityArn)
            }
        }
    }

    /// Every task left running becomes `Worker.Interrupted` (`TaskFate.interruptedByRestart`).
    mutating func interruptRunning() {
        guard case .report(let interrupted) = TaskFate.interruptedByRestart else { return }
        for (fingerprint, entry) in entries where entry.result == nil { entries[fingerprint]?.result = interrupted }
    }

    /// Every kept result, by fingerprint.
    var pending: [PendingResult] {
        entries.sorted { $0.key < $1.key }.compactMap { _, entry in
            entry.result.map { PendingResult(token: entry.token, activityArn: entry.activityArn, result: $0) }
        }
    }
}
