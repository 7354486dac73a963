#if canImport(Glibc)
import Glibc
#endif
@testable import StepWorker
import StepWorkerTestKit
import Synchronization
import Testing

/// The budgets of issue 32, decided with no clock, socket or process.
struct ResourceRulesTests {
    typealias Rules = LaunchPause.Rules

    @Test func onlyAShortageTheWholeDaemonSharesPausesThePolls() {
        for code in [EMFILE, ENFILE, EAGAIN, ENOMEM] { #expect(Rules.isShortage(code), "errno \(code)") }
        for code in [ENOENT, EACCES, ENOEXEC, ETXTBSY, E2BIG] { #expect(!Rules.isShortage(code), "errno \(code)") }
    }

    @Test func thePauseDoublesWhileStartsKeepFailingAndResetsOnceOneStarts() {
        var rules = Rules()
        var pauses: [Duration] = []
        for attempt in 0..<8 { pauses.append(rules.shortage("pipe: Too many open files", at: .seconds(100 * attempt))) }
        #expect(pauses == [1, 2, 4, 8, 16, 30, 30, 30].map { Duration.seconds($0) })
        #expect(rules.remaining(at: .seconds(700)) == .seconds(30))
        #expect(rules.remaining(at: .seconds(729)) == .seconds(1))
        #expect(rules.remaining(at: .seconds(730)) == nil)
        let ended = rules.launched()
        #expect(ended, "a start after failures ends the pause")
        #expect(rules.remaining(at: .seconds(701)) == nil)
        let endedAgain = rules.launched()
        #expect(!endedAgain, "nothing to end")
        let next = rules.shortage("again", at: .seconds(800))
        #expect(next == .seconds(1))
    }

    @Test func aPauseEndsAtItsDeadlineEvenWithoutAStart() {
        var rules = Rules()
        _ = rules.shortage("x", at: .seconds(10))
        #expect(rules.remaining(at: .seconds(10)) == .seconds(1))
        #expect(rules.remaining(at: .milliseconds(10_999)) == .milliseconds(1))
        #expect(rules.remaining(at: .seconds(11)) == nil)
    }

    @Test func theStatusSaysWhyWhilePaused() {
        let now = Mutex(Duration.zero)
        let pause = LaunchPause(now: { now.withLock { $0 } })
        #expect(pause.statusNote == nil)
        #expect(pause.startFailed(errno: ENOENT, reason: "No such file or directory") == nil)
        #expect(pause.statusNote == nil)
        #expect(pause.startFailed(errno: EMFILE, reason: "pipe: Too many open files") == .seconds(1))
        #expect(pause.statusNote == "paused: cannot start handlers (pipe: Too many open files)")
        now.withLock { $0 = .seconds(1) }
        #expect(pause.statusNote == nil)
        #expect(pause.remaining == nil)
    }

    @Test func refusalsAreLoggedOncePerWindowWithTheCountOfTheRest() {
        var budget = RefusalLog.Budget(interval: .seconds(10))
        let start = ContinuousClock.now
        var decisions: [Int?] = [budget.record(at: start)]
        for second in 1...9 { decisions.append(budget.record(at: start + .seconds(second))) }
        decisions.append(budget.record(at: start + .milliseconds(9_999)))
        decisions.append(budget.record(at: start + .seconds(10)))
        decisions.append(budget.record(at: start + .seconds(30)))
        // The first is logged; the next ten are counted and the count rides with the 10 s line.
        #expect(decisions == [0] + Array(repeating: nil, count: 10) + [10, 0])
    }

    static func activity(_ lines: String, metrics: Bool = false) throws -> Configuration {
        let directory = TemporaryDirectory()
        return try ConfigurationLoader(host: TestHostFacts()).load(text: """
            [worker]
            state_directory = "\(directory.path)"
            \(metrics ? "[metrics]\nlisten = \"127.0.0.1:9464\"" : "")
            [[activity]]
            arn = "arn:aws:states:us-east-1:123456789012:activity:a"
            command = ["/bin/true"]
            \(lines)
            """, file: directory.path + "/stepworker.toml")
    }

    @Test func theBudgetCountsEveryPartTheConfigurationCanOpen() throws {
        let small = DescriptorBudget(try Self.activity("concurrency = 4"))
        // 4 polls + 4 tasks' results or heartbeats + 8 for an earlier run's results.
        #expect(small.serviceConnections == 16)
        #expect(small.handlers == 4 * DescriptorBudget.perHandler)
        #expect(small.warmListeners == 0 && small.metrics == 0)
        #expect(small.total == 64 + 16 + 28 + 64)
        #expect(small.shortfall(limit: 1024) == nil)

        let warm = DescriptorBudget(try Self.activity("concurrency = 4\nprotocol = \"lambda\"", metrics: true))
        #expect(warm.warmListeners == 4 * (1 + RuntimeAPIServer.maxConnections))
        #expect(warm.metrics == 1 + MetricsServer.maxConnections)

        // The issue's case: a thousand slots need far more than systemd's soft limit.
        let wide = DescriptorBudget(try Self.activity("concurrency = 1000"))
        #expect(wide.serviceConnections == 8 + 1000 + 1000)
        let problem = try #require(wide.shortfall(limit: 1024))
        #expect(problem.contains("up to \(wide.total) file descriptors") && problem.contains("the limit is 1024"), "\(problem)")
        #expect(problem.contains("LimitNOFILE="))
        #expect(wide.shortfall(limit: 524_288) == nil)
    }

    /// 64 descriptors are kept from handler starts, or a quarter of a limit too small for that
    /// (a reserve of 64 under a limit of 40 would refuse every start).
    @Test func theReserveIsSixtyFourOrAQuarterOfATinyLimit() {
        #expect(DescriptorLimit.reserve(below: 524_288) == 64)
        #expect(DescriptorLimit.reserve(below: 1024) == 64)
        #expect(DescriptorLimit.reserve(below: 256) == 64)
        #expect(DescriptorLimit.reserve(below: 200) == 50)
        #expect(DescriptorLimit.reserve(below: 40) == 10)
        #expect(DescriptorLimit.reserve(below: 0) == 0)
    }

    /// A configuration that cannot fit runs fewer slots, every activity by the same factor,
    /// rather than polling for tasks it could not start.
    @Test func aConfigurationBeyondTheLimitIsScaledDownToFit() throws {
        let configuration = try Self.activity("concurrency = 100\npollers = 10")
        #expect(DescriptorBudget.fitting(configuration, limit: 100_000) == configuration, "one that fits is left alone")
        for limit: UInt64 in [200, 1024, 4096] {
            let fitted = DescriptorBudget.fitting(configuration, limit: limit)
            let activity = fitted.activities[0]
            #expect(DescriptorBudget(fitted).total <= Int(limit), "limit \(limit): \(activity.concurrency) slots")
            #expect(activity.pollers >= 1 && activity.pollers <= activity.concurrency)
            // Not scaled further than it must be: one more slot each would not fit.
            var bigger = fitted
            bigger.activities[0].concurrency += 1
            bigger.activities[0].pollers = min(10, bigger.activities[0].pollers + 1)
            #expect(DescriptorBudget(bigger).total > Int(limit) || activity.concurrency == 100, "limit \(limit)")
        }
        // 200: (200 - 64 - 64 - 8) = 64 descriptors for 10 polls + 100 x (1 + 7).
        let tiny = DescriptorBudget.fitting(configuration, limit: 200).activities[0]
        #expect((tiny.concurrency, tiny.pollers) == (7, 1))
        #expect(DescriptorBudget.reductions(from: configuration, to: DescriptorBudget.fitting(configuration, limit: 200))
            == ["a: concurrency 100 -> 7, pollers 10 -> 1"])
        // Never below one slot and one poller, however low the limit.
        let none = DescriptorBudget.fitting(configuration, limit: 10).activities[0]
        #expect((none.concurrency, none.pollers) == (1, 1))
    }
}
