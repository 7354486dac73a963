@testable import StepWorker
import Testing

/// stderr cut into lines under the rate limit: which lines reach the log, what is counted as
/// dropped, and the tail kept for failure causes whatever was dropped.
@Suite("StderrCollector: lines under the rate limit, the tail intact")
struct StderrCollectorTests {
    /// Feeds `chunks`, all at the same time (no refill); returns every line let through (the
    /// unfinished last one at EOF too), the dropped count and the tail.
    func run(_ chunks: [String], burst: Int, maxLineBytes: Int = 8192, tailBytes: Int = 4096) -> (lines: [String], dropped: Int, tail: String) {
        var collector = StderrCollector(maxLineBytes: maxLineBytes, tailBytes: tailBytes)
        var limiter = LineRateLimiter(policy: .init(burst: burst, linesPerSecond: 0, reportInterval: 1000), now: 0)
        var lines: [String] = []
        for chunk in chunks {
            lines += Array(chunk.utf8).withUnsafeBytes { collector.append($0, limiter: &limiter, now: 0) }
        }
        if let last = collector.flush() { lines.append(last) }
        return (lines, limiter.dropped, collector.tailText)
    }

    @Test func underTheLimitEveryLineAsBefore() {
        let result = run(["one\ntw", "o\r\nthr", "ee"], burst: 10)
        #expect(result.lines == ["one", "two", "three"])
        #expect(result.dropped == 0)
    }

    @Test func linesPastTheBurstAreDroppedAndCountedAcrossChunks() {
        let result = run(["a\nb\nc", "c\nd\ne", "e\nf"], burst: 2)
        #expect(result.lines == ["a", "b"])
        #expect(result.dropped == 4)  // cc, d, ee, and f (unfinished at EOF)
        #expect(result.tail == "a\nb\ncc\nd\nee\nf")
    }

    @Test func theTailKeepsTheLastBytesWhenLinesAreDropped() {
        let flood = String(repeating: "y\n", count: 10_000) + "Traceback: the real error\n"
        let result = run([flood], burst: 3, tailBytes: 64)
        #expect(result.lines == ["y", "y", "y"])
        #expect(result.dropped == 10_000 - 3 + 1)
        #expect(result.tail.hasSuffix("y\nTraceback: the real error\n"))
        #expect(result.tail.utf8.count == 64)
    }

    @Test func eachPieceOfASplitLineCountsAsALine() {
        let long = String(repeating: "e", count: 25)
        let result = run([long + "\n", "x\n"], burst: 2, maxLineBytes: 10)
        #expect(result.lines == [String(repeating: "e", count: 10), String(repeating: "e", count: 10)])
        #expect(result.dropped == 2)  // the last 5 e's, and x
    }

    @Test func aDroppedLineDoesNotSwallowTheNextOne() {
        var collector = StderrCollector(maxLineBytes: 100)
        var limiter = LineRateLimiter(policy: .init(burst: 1, linesPerSecond: 1, reportInterval: 1000), now: 0)
        var lines = Array("first\nsecond".utf8).withUnsafeBytes { collector.append($0, limiter: &limiter, now: 0) }
        // A second later there is credit again: the line after the dropped one is logged.
        lines += Array(" still\nthird\n".utf8).withUnsafeBytes { collector.append($0, limiter: &limiter, now: 1000) }
        #expect(lines == ["first", "third"])
        #expect(limiter.dropped == 1)
    }
}
