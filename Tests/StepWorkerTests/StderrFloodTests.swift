import POSIXSupport
import Logging
@testable import StepWorker
import StepWorkerTestKit
import Testing

/// Issue 32: a handler flooding stderr (`yes`) through the real runner costs the log a bounded
/// number of lines, says how many it dropped, never blocks the handler, and keeps the tail.
@Suite("Handler stderr flood: real handlers under the rate limit", .timeLimit(.minutes(1)))
struct StderrFloodTests {
    let directory = TemporaryDirectory()
    let log = RecordingLogHandlerStore()
    let runner = SubprocessRunner()
    let policy = LineRateLimiter.Policy.handlerStderr
    static let dropMessage = "Handler stderr is over its rate limit; lines were dropped from the log"

    func invocation(_ script: String) -> HandlerInvocation {
        let path = directory.script(script)
        return HandlerInvocation(
            executablePath: path, arguments: [path], environment: ["PATH": "/usr/bin:/bin"], workingDirectory: directory.path,
            input: [], timeout: .seconds(30), killGrace: .seconds(1), maxOutput: 1024, logger: log.logger())
    }

    /// The handler's own lines in the log (not the daemon's report).
    var handlerLines: [RecordingLogHandlerStore.Entry] { log.all.filter { $0.message != Self.dropMessage } }

    /// The most lines the limit lets through in `elapsed`: the burst, the refill, one for rounding.
    func ceiling(_ elapsed: Duration) -> Int {
        policy.burst + Int(elapsed.milliseconds / 1000 + 1) * policy.linesPerSecond
    }

    @Test func aMillionLinesOfYesLogABoundedNumberAndReportTheRest() async throws {
        let lines = 1_000_000
        let started = ContinuousClock.now
        let result = await runner.run(invocation("yes | head -n \(lines) >&2; echo 'Traceback: the real error' >&2; exit 3"))
        let elapsed = ContinuousClock.now - started
        #expect(result.termination == .exited(3), "the handler ran to its end: reading never stopped")
        let logged = handlerLines.count
        #expect(logged >= policy.burst)
        #expect(logged <= ceiling(elapsed), "\(logged) lines logged in \(elapsed)")
        #expect(result.stderrLinesDropped == lines + 1 - logged)
        let reports = log.all.filter { $0.message == Self.dropMessage }
        #expect(!reports.isEmpty)
        #expect(reports.count <= Int(elapsed.milliseconds / policy.reportInterval) + 1, "at most one report per interval, and the last")
        #expect(reports.map { Int($0.metadata["dropped"] ?? "") ?? 0 }.reduce(0, +) == result.stderrLinesDropped)
        #expect(reports.allSatisfy { $0.level == .warning && $0.metadata["burst"] == "\(policy.burst)" })
        // The tail for the failure cause has the last bytes, dropped from the log or not.
        #expect(result.stderrTail.hasSuffix("y\ny\nTraceback: the real error\n"))
        guard case .failure(let error, let cause)? = TaskFate.decide(result, rules: OutcomeRules()).result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == "Handler.Failed")
        #expect(cause.hasPrefix("exit status 3; stderr:\n"))
        #expect(cause.hasSuffix("y\ny\nTraceback: the real error"))
    }

    @Test func aHandlerUnderTheLimitLosesNothing() async throws {
        let result = await runner.run(invocation("for i in $(seq 1 \(policy.burst)); do echo \"line $i\" >&2; done"))
        #expect(result.termination == .exited(0))
        #expect(handlerLines.map(\.message) == (1...policy.burst).map { "line \($0)" }, "\(handlerLines.count) lines")
        #expect(result.stderrLinesDropped == 0)
        #expect(!log.all.contains { $0.message == Self.dropMessage })
    }

    @Test func anOverlongLineWithoutNewlinesCountsEachPiece() async throws {
        // 100 MB of one "line": split in 8 KiB pieces, each a line for the limit.
        let result = await runner.run(invocation("head -c 100000000 /dev/zero | tr '\\0' 'e' >&2"))
        #expect(result.termination == .exited(0))
        let pieces = (100_000_000 + 8191) / 8192
        #expect(handlerLines.count + result.stderrLinesDropped == pieces)
        #expect(handlerLines.count < pieces / 10)
        #expect(result.stderrTail == String(repeating: "e", count: 4096))
    }
}
