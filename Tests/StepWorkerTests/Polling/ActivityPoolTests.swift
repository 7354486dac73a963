import Foundation
import StepFunctions
import StepFunctionsLocal
import StepWorker
import StepWorkerTestKit
import Testing

/// Pools of pollers against the real local endpoint with real handlers: capacity is never
/// exceeded, poll errors back off, and drain never aborts an open poll.
@Suite(.timeLimit(.minutes(1)))
struct ActivityPoolTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDPOOL", secretAccessKey: "pool-secret")

    struct Harness {
        var server: LocalEndpointServer
        var admin: LocalAdminClient
        var client: StepFunctionsClient
        var directory: TemporaryDirectory
        var log: RecordingLogHandlerStore

        /// A pool for activity `name` running `script`, with `extra` TOML lines.
        func pool(_ name: String, script: String, extra: String) async throws -> ActivityPool {
            let arn = try await admin.createActivity(name: name)
            let handler = directory.script(script, name: "\(name).sh")
            let toml = """
                [worker]
                state_directory = "\(directory.path)/state"
                [[activity]]
                arn = "\(arn)"
                command = ["\(handler)"]
                \(extra)
                """
            let configuration = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/\(name).toml")
            let delivery = ResultDelivery(service: client, logger: log.logger())
            let ledger = try TaskLedger(stateDirectory: directory.path + "/state", delivery: delivery)
            let run = TaskRun(
                service: client, runner: SubprocessRunner(), ledger: ledger,
                workerName: "pool-test", daemonEnvironment: [:], logger: log.logger())
            let fastBackoff = PollBackoff(
                retryable: RetryPolicy(maxAttempts: nil, baseDelay: .milliseconds(20), maxDelay: .milliseconds(100)),
                slow: RetryPolicy(maxAttempts: nil, baseDelay: .milliseconds(100), maxDelay: .milliseconds(200)))
            return ActivityPool(
                activity: configuration.activities[0], service: client, taskRun: run,
                workerName: "pool-test", backoff: fastBackoff, logger: log.logger())
        }
    }

    func withHarness(pollDuration: Duration = .seconds(1), _ body: (Harness) async throws -> Void) async throws {
        try await LocalSession.with(
            .init(credentials: Self.credentials, pollDuration: pollDuration),
            configureClient: { $0.retryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20)) }
        ) { session in
            try await body(Harness(
                server: session.server, admin: session.admin, client: session.client,
                directory: TemporaryDirectory(), log: RecordingLogHandlerStore()))
        }
    }

    /// Each handler notes how many handlers of its activity run at that moment.
    static func countingScript(_ directory: String) -> String {
        """
        mkdir -p \(directory)/running
        touch \(directory)/running/$$
        ls \(directory)/running | wc -l >> \(directory)/counts
        sleep 0.05
        rm \(directory)/running/$$
        read input; echo "$input"
        """
    }

    @Test func everyTaskCompletesAndCapacityIsNeverExceeded() async throws {
        try await withHarness { h in
            let countsA = h.directory.path + "/a", countsB = h.directory.path + "/b"
            let a = try await h.pool("a", script: Self.countingScript(countsA), extra: "concurrency = 3\npollers = 2")
            let b = try await h.pool("b", script: Self.countingScript(countsB), extra: "concurrency = 2\npollers = 2")
            async let runA: Void = a.run()
            async let runB: Void = b.run()
            var ids: [String] = []
            for n in 0..<40 {
                let pool = n % 2 == 0 ? a : b
                ids.append(try await h.admin.submitTask(activityArn: pool.activity.arn.description, input: #"{"n":\#(n)}"#))
            }
            for id in ids {
                let state = try await h.admin.task(id, waitUpTo: .seconds(30))
                #expect(state.status == "SUCCEEDED", "task \(id): \(state.status) \(state.error ?? "")")
            }
            a.drain()
            b.drain()
            await runA
            await runB

            let stats = try await h.admin.stats()
            #expect((stats.activities[a.activity.arn.description]?.maxOpenPolls ?? 99) <= 2)
            #expect((stats.activities[b.activity.arn.description]?.maxOpenPolls ?? 99) <= 2)
            let maxA = try String(contentsOfFile: countsA + "/counts", encoding: .utf8).split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.max()
            let maxB = try String(contentsOfFile: countsB + "/counts", encoding: .utf8).split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.max()
            #expect((1...3).contains(maxA ?? 0))
            #expect((1...2).contains(maxB ?? 0))
            #expect(a.counters.succeeded + b.counters.succeeded == 40)
        }
    }

    @Test func pollErrorsBackOffAndNeverKillThePoller() async throws {
        try await withHarness { h in
            let pool = try await h.pool("flaky", script: "cat", extra: "concurrency = 1")
            try await h.admin.injectFault(FaultRule(fault: .throttle, count: 3, operation: "GetActivityTask"))
            try await h.admin.injectFault(FaultRule(fault: .serverError, count: 2, operation: "GetActivityTask"))
            try await h.admin.injectFault(FaultRule(fault: .dropConnection, count: 1, operation: "GetActivityTask"))
            async let running: Void = pool.run()
            let id = try await h.admin.submitTask(activityArn: pool.activity.arn.description, input: "[1]")
            #expect(try await h.admin.task(id, waitUpTo: .seconds(20)).status == "SUCCEEDED")
            pool.drain()
            await running
            #expect(pool.counters.pollErrors == 6)
        }
    }

    @Test func aMissingActivityIsRetriedSlowlyNotSpunOn() async throws {
        try await withHarness { h in
            let pool = try await h.pool("doomed", script: "cat", extra: "concurrency = 1")
            try await h.client.deleteActivity(arn: pool.activity.arn.description)
            async let running: Void = pool.run()
            let started = ContinuousClock.now
            while pool.counters.pollErrors < 2, ContinuousClock.now - started < .seconds(10) {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(300))
            pool.drain()
            await running
            let elapsed = ContinuousClock.now - started
            // Retried, but never sooner than a tenth of the 100-200 ms ceiling (full jitter above
            // that floor): at most one attempt per 10 ms, not a spin.
            #expect(pool.counters.pollErrors >= 2)
            #expect(Double(pool.counters.pollErrors) <= 1 + elapsed / .milliseconds(10), "\(pool.counters.pollErrors) polls in \(elapsed)")
            #expect(h.log.messages.contains("Poll failed; backing off"))
        }
    }

    @Test func drainLetsOpenPollsReturnAndFailsATaskTheyBring() async throws {
        try await withHarness(pollDuration: .seconds(3)) { h in
            let pool = try await h.pool("draining", script: "cat", extra: "concurrency = 2")
            let arn = pool.activity.arn.description
            async let running: Void = pool.run()
            // Wait until both polls are open, then drain: they must stay open.
            while (try await h.admin.stats().activities[arn]?.openPolls ?? 0) < 2 { try await Task.sleep(for: .milliseconds(10)) }
            pool.drain()
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await h.admin.stats().activities[arn]?.openPolls == 2, "draining must not abort open polls")
            let id = try await h.admin.submitTask(activityArn: arn, input: "{}")
            let state = try await h.admin.task(id, waitUpTo: .seconds(10))
            #expect(state.status == "FAILED")
            #expect(state.error == "Worker.ShuttingDown")
            await running
            #expect(try await h.admin.stats().activities[arn]?.openPolls == 0)
        }
    }
}
