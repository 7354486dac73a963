import POSIXSupport
@testable import StepWorker
import StepWorkerTestKit
import Testing

/// Issue 32 for warm processes: a runtime flooding stderr during each task it holds. The rate
/// limit is per task held (a new burst at each handout), and each task's result counts what
/// was dropped while it was held.
@Suite(.timeLimit(.minutes(1)))
struct WarmStderrFloodTests {
    /// A curl runtime that writes 200,000 lines to stderr before it answers each task.
    static let floodingBootstrap = #"""
        #!/bin/sh
        set -u
        api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
        headers=$(mktemp)
        while true; do
            curl -sS -D "$headers" -o /dev/null "$api/invocation/next" || exit 1
            id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | tr -d '\r' | cut -d' ' -f2)
            yes "flood $id" | head -n 200000 >&2
            curl -sS -X POST -d '{}' "$api/invocation/$id/response" >/dev/null || exit 1
        done
        """#

    @Test func eachTaskGetsItsOwnBurstAndItsOwnDroppedCount() async throws {
        let directory = TemporaryDirectory()
        let bootstrap = directory.write("bootstrap", Self.floodingBootstrap, executable: true)
        let h = try WarmHandlerTests.Harness(command: [bootstrap])
        let policy = LineRateLimiter.Policy.handlerStderr
        let started = ContinuousClock.now
        for id in ["t1", "t2"] {
            let (result, outcome) = await h.run("{}", id: id)
            #expect(outcome == .success(output: "{}"))
            // 1.8 MB went through a 64 KiB pipe before the answer: nearly all of it was read,
            // and dropped, while the task was held.
            #expect(result.stderrLinesDropped >= 100_000, "\(id)")
        }
        await h.stop()
        let elapsed = ContinuousClock.now - started
        let first = h.log.all.filter { $0.message == "flood t1" }.count
        let second = h.log.all.filter { $0.message == "flood t2" }.count
        let ceiling = 2 * policy.burst + Int(elapsed.milliseconds / 1000 + 1) * policy.linesPerSecond
        #expect(first + second <= ceiling, "\(first) + \(second) lines logged in \(elapsed)")
        // Without a new burst at the handout the second task would get only the refill since
        // the first (a few lines): it gets most of a burst.
        #expect(first >= policy.burst / 2)
        #expect(second >= policy.burst / 2)
        #expect(h.log.all.contains { $0.message == "Handler stderr is over its rate limit; lines were dropped from the log" })
    }
}
