@testable import StepWorker
import Testing

/// The stderr rate limit's token bucket and its reports, on injected milliseconds: no clock, no sleep.
@Suite("LineRateLimiter: a burst, then a rate, and the dropped lines reported")
struct LineRateLimiterTests {
    typealias Policy = LineRateLimiter.Policy

    /// One row: lines offered at given times, and how many of each batch were logged.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policy: Policy
        /// (milliseconds, lines offered then)
        var batches: [(at: Int64, lines: Int)]
        /// Lines admitted in each batch.
        var admitted: [Int]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "the burst is logged whole, the rest dropped",
             policy: Policy(burst: 3, linesPerSecond: 1, reportInterval: 10_000),
             batches: [(0, 5)], admitted: [3]),
        Case(name: "the bucket refills at the rate, never more than a whole line early",
             policy: Policy(burst: 3, linesPerSecond: 1, reportInterval: 10_000),
             batches: [(0, 3), (999, 1), (1000, 2), (3000, 5)], admitted: [3, 0, 1, 2]),
        Case(name: "a long pause refills the burst and no more",
             policy: Policy(burst: 3, linesPerSecond: 1, reportInterval: 10_000),
             batches: [(0, 3), (3_600_000, 10)], admitted: [3, 3]),
        Case(name: "a fast rate: 50 lines/s is one line every 20 ms",
             policy: Policy(burst: 1, linesPerSecond: 50, reportInterval: 10_000),
             batches: [(0, 2), (19, 1), (20, 1), (40, 1), (100, 5)], admitted: [1, 0, 1, 1, 1]),
        Case(name: "credit builds up in parts of a line",
             policy: Policy(burst: 2, linesPerSecond: 3, reportInterval: 10_000),
             batches: [(0, 2), (200, 1), (400, 1), (666, 1), (667, 1)], admitted: [2, 0, 1, 0, 1]),
        Case(name: "time that goes backwards adds nothing",
             policy: Policy(burst: 2, linesPerSecond: 1000, reportInterval: 10_000),
             batches: [(5000, 2), (4000, 3), (5000, 3)], admitted: [2, 0, 0]),
        Case(name: "no refill: the burst and nothing after",
             policy: Policy(burst: 2, linesPerSecond: 0, reportInterval: 10_000),
             batches: [(0, 1), (60_000, 5)], admitted: [1, 1]),
        Case(name: "a handler that writes `yes` for 10 s logs 500 + 50/s lines",
             policy: .handlerStderr,
             batches: (0...100).map { (Int64($0) * 100, 100_000) }, admitted: [500] + Array(repeating: 5, count: 100)),
    ]

    @Test(arguments: cases)
    func admits(_ row: Case) {
        var limiter = LineRateLimiter(policy: row.policy, now: row.batches[0].at)
        var offered = 0
        for (batch, expected) in zip(row.batches, row.admitted) {
            let admitted = (0..<batch.lines).count(where: { _ in limiter.admit(now: batch.at) })
            #expect(admitted == expected, "at \(batch.at) ms")
            offered += batch.lines
        }
        #expect(limiter.dropped == offered - row.admitted.reduce(0, +))
    }

    @Test func theFirstReportIsDueAnIntervalAfterTheFirstDrop() {
        var limiter = LineRateLimiter(policy: Policy(burst: 1, linesPerSecond: 0, reportInterval: 1000), now: 0)
        let first = limiter.admit(now: 0)
        #expect(first)
        #expect(limiter.reportDue == nil)
        #expect(limiter.takeReport(now: 5000) == nil)  // nothing dropped, nothing to report
        let second = limiter.admit(now: 100)
        #expect(!second)
        #expect(limiter.reportDue == 1100)
        let third = limiter.admit(now: 600)
        #expect(!third)
        #expect(limiter.takeReport(now: 1099) == nil)
        #expect(limiter.takeReport(now: 1100) == 2)
        #expect(limiter.reportDue == nil)
        #expect(limiter.takeReport(now: 1101) == nil)
        #expect(limiter.dropped == 2)  // reported, still counted for the task
    }

    @Test func reportsComeAtMostOncePerInterval() {
        var limiter = LineRateLimiter(policy: Policy(burst: 0, linesPerSecond: 0, reportInterval: 1000), now: 0)
        var reports: [(Int64, Int)] = []
        // A line every 10 ms for 5 s, the report looked for at every line (as the reactor does).
        for now in stride(from: Int64(0), to: 5000, by: 10) {
            _ = limiter.admit(now: now)
            if let count = limiter.takeReport(now: now) { reports.append((now, count)) }
        }
        #expect(reports.map(\.0) == [1000, 2010, 3020, 4030])
        #expect(reports.map(\.1) == [101, 101, 101, 101])
        #expect(limiter.takeFinalReport() == 96)
        #expect(limiter.takeFinalReport() == nil)
        #expect(limiter.dropped == 500)
    }

    @Test func aNewTaskGetsAFullBurstAndCountsFromZero() {
        var limiter = LineRateLimiter(policy: Policy(burst: 2, linesPerSecond: 0, reportInterval: 1000), now: 0)
        let first = (0..<5).count(where: { _ in limiter.admit(now: 0) })
        #expect(first == 2)
        #expect(limiter.dropped == 3)
        limiter.restart(now: 50)
        #expect(limiter.dropped == 0)
        #expect(limiter.unreported == 3)  // still reported, for the process
        #expect(limiter.reportDue == 1000)
        let second = (0..<3).count(where: { _ in limiter.admit(now: 60) })
        #expect(second == 2)
        #expect(limiter.dropped == 1)
        #expect(limiter.takeReport(now: 1000) == 4)
    }
}
