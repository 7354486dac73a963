/// Whether a handler's next stderr line is logged: a token bucket, like journald's
/// `RateLimitBurst`/`RateLimitIntervalSec` but per task. A run starts with `burst` lines it may
/// log at once; the bucket then refills at `linesPerSecond`, and a line that finds it empty is
/// dropped and counted. Dropped lines are reported (`takeReport`) at most once per
/// `reportInterval`: the first report is due that long after the first drop, and what is left
/// at the end of the run is reported then (`takeFinalReport`).
///
/// Pure: times are monotonic milliseconds, always passed in. Credit is kept in thousandths of a
/// line so a refill of `elapsed ms × lines/s` is exact integer arithmetic.
struct LineRateLimiter: Sendable, Equatable {
    struct Policy: Sendable, Equatable {
        /// Lines that may be logged at once (the bucket's size, and what a run starts with).
        var burst: Int
        /// Lines per second once the burst is spent (the bucket's refill).
        var linesPerSecond: Int
        /// The least time between two reports of dropped lines, in milliseconds.
        var reportInterval: Int64

        /// Handler stderr (docs/handlers.md): a traceback or a burst of progress logs whole,
        /// and a handler writing `yes` logs about 500 + 50 lines per second it runs, not millions.
        static let handlerStderr = Policy(burst: 500, linesPerSecond: 50, reportInterval: 10_000)
    }

    let policy: Policy
    /// Thousandths of a line.
    private var credit: Int64
    private var refilledAt: Int64
    /// Lines dropped since the run (or the task, `restart`) began.
    private(set) var dropped = 0
    /// Dropped lines not reported yet.
    private(set) var unreported = 0
    /// When the unreported lines are to be reported; nil when there are none.
    private(set) var reportDue: Int64?

    init(policy: Policy, now: Int64) {
        self.policy = policy
        credit = Self.capacity(policy)
        refilledAt = now
    }

    /// Whether one more line may be logged at `now`; a refused line is counted as dropped.
    mutating func admit(now: Int64) -> Bool {
        refill(now: now)
        if credit >= 1000 {
            credit -= 1000
            return true
        }
        dropped += 1
        unreported += 1
        if reportDue == nil { reportDue = now + policy.reportInterval }
        return false
    }

    /// The count to report at `now`, if a report is due (it is then reset).
    mutating func takeReport(now: Int64) -> Int? {
        guard let due = reportDue, now >= due else { return nil }
        return takeFinalReport()
    }

    /// The count not reported yet, due or not (at the end of a run), if any.
    mutating func takeFinalReport() -> Int? {
        guard unreported > 0 else { return nil }
        defer {
            unreported = 0
            reportDue = nil
        }
        return unreported
    }

    /// A new task for the same process (a warm process's handout): a full bucket and a dropped
    /// count from zero. Lines dropped before and not reported yet stay due.
    mutating func restart(now: Int64) {
        credit = Self.capacity(policy)
        refilledAt = now
        dropped = 0
    }

    private mutating func refill(now: Int64) {
        let elapsed = now - refilledAt
        guard elapsed > 0 else { return }
        refilledAt = now
        let capacity = Self.capacity(policy)
        // Elapsed time past a full bucket's worth cannot add more; clamping first keeps the
        // product small whatever the gap.
        credit = min(capacity, credit + min(elapsed, capacity) * Int64(max(0, policy.linesPerSecond)))
    }

    private static func capacity(_ policy: Policy) -> Int64 { Int64(max(0, policy.burst)) * 1000 }
}
