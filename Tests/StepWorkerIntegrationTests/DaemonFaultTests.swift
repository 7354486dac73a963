import Foundation
import StepFunctions
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

/// `stepworker run` as the built binary against an endpoint that throttles, fails with 5xx and
/// drops connections on polls, heartbeats and results; and heartbeats as the endpoint sees them.
@Suite("stepworker run with faults", .timeLimit(.minutes(3)))
struct DaemonFaultTests {
    /// A handler that appends its task's number to `runs` in `directory`, runs `seconds`, then
    /// succeeds echoing the number (`"kind":"ok"`) or fails the way `failure` says.
    static func handler(directory: String, seconds: String, failure: String) -> String {
        """
        read -r input
        n=${input#*\\"n\\":}; n=${n%%,*}
        echo "$n" >> \(directory)/runs
        sleep \(seconds)
        case "$input" in
        *'"kind":"ok"'*) printf '{"n":%s}\\n' "$n" ;;
        *) \(failure) ;;
        esac
        """
    }

    /// Faults that leave the request without effect, then faults whose request takes effect but
    /// whose answer is lost (`afterOperation`), for one operation.
    struct Faults {
        var operation: String
        var before: [FaultRule]
        var after: [FaultRule]
        var total: Int { (before + after).reduce(0) { $0 + ($1.count ?? 1) } }
        var afterCount: Int { after.reduce(0) { $0 + ($1.count ?? 1) } }
    }

    static func faults(_ operation: String, throttles: Int, serverErrors: Int, drops: Int, dropsAfter: Int, serverErrorsAfter: Int) -> Faults {
        Faults(
            operation: operation,
            before: [
                FaultRule(fault: .throttle, count: throttles, operation: operation),
                FaultRule(fault: .serverError, count: serverErrors, operation: operation, status: 503),
                FaultRule(fault: .dropConnection, count: drops, operation: operation),
            ],
            after: [
                FaultRule(fault: .dropConnection, count: dropsAfter, operation: operation, afterOperation: true),
                FaultRule(fault: .serverError, count: serverErrorsAfter, operation: operation, afterOperation: true),
            ].filter { ($0.count ?? 1) > 0 })
    }

    @Test func everyTaskReachesItsOutcomeExactlyOnceThroughThrottlingServerErrorsAndDroppedConnections() async throws {
        try await DaemonProcessTests.withHarness { h in
            let clock = ContinuousClock()
            let started = clock.now
            let slow = h.directory.path + "/slow", quick = h.directory.path + "/quick"
            try FileManager.default.createDirectory(atPath: slow, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: quick, withIntermediateDirectories: true)
            // "slow" heartbeats every 250 ms while its handlers run 1.5 s (the endpoint wants one
            // every 4 s); "quick" runs short handlers that fail with a plain exit status.
            let (config, arns) = try await h.configuration(activities: [
                .init(
                    name: "slow", script: Self.handler(
                        directory: slow, seconds: "1.5",
                        failure: #"printf '{"error":"Fault.Structured","cause":"task %s"}\n' "$n"; exit 2"#),
                    concurrency: 4, heartbeat: "250ms"),
                .init(
                    name: "quick", script: Self.handler(directory: quick, seconds: "0.05", failure: "exit 5"),
                    concurrency: 3, heartbeat: "0s"),
            ])
            let tasksPerActivity = 24
            var ids: [[String]] = [[], []]
            for (index, arn) in arns.enumerated() {
                for n in 0..<tasksPerActivity {
                    let kind = n % 2 == 0 ? "ok" : "fail"
                    ids[index].append(try await h.admin.submitTask(
                        activityArn: arn, input: #"{"n":\#(n),"kind":"\#(kind)"}"#, heartbeatSeconds: index == 0 ? 4 : nil))
                }
            }

            // A poll answer lost after the endpoint handed out a task loses that task until it
            // times out, with the service as here (the protocol has no way back), so polls only
            // get faults that leave them without effect.
            let plans = [
                Self.faults("GetActivityTask", throttles: 3, serverErrors: 2, drops: 2, dropsAfter: 0, serverErrorsAfter: 0),
                Self.faults("SendTaskHeartbeat", throttles: 4, serverErrors: 2, drops: 2, dropsAfter: 2, serverErrorsAfter: 1),
                Self.faults("SendTaskSuccess", throttles: 3, serverErrors: 2, drops: 2, dropsAfter: 3, serverErrorsAfter: 2),
                Self.faults("SendTaskFailure", throttles: 2, serverErrors: 1, drops: 1, dropsAfter: 2, serverErrorsAfter: 1),
            ]
            for plan in plans {
                for rule in plan.before + plan.after { try await h.admin.injectFault(rule) }
            }

            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")

            let deadline = clock.now + .seconds(60)  // for all of them: a lost task costs it once
            for id in ids.joined() { _ = try await h.finished(id, notify: notify, timeout: deadline - clock.now) }
            // A result the endpoint took whose answer was lost is retried after a backoff, when
            // the task has long finished: stop the daemon (a drain waits for every delivery)
            // before counting result calls.
            let stopped = await h.stop(process, notify: notify)
            #expect(stopped == 0, "\(h.daemonLog)")
            #expect(h.stateLeftovers.isEmpty, "\(h.stateLeftovers)")

            var rejected = 0
            var heartbeats: [Int] = []
            var slowSpans: [(start: String, end: String)] = []
            for (index, activityIDs) in ids.enumerated() {
                for (n, id) in activityIDs.enumerated() {
                    let state = try await h.admin.task(id)
                    let label = "\(index == 0 ? "slow" : "quick") task \(n)"
                    if n % 2 == 0 {
                        #expect(state.status == "SUCCEEDED", "\(label): \(state.status) \(state.error ?? "") \(state.cause ?? "")")
                        #expect(state.output == #"{"n":\#(n)}"#, "\(label)")
                    } else if index == 0 {
                        #expect(state.status == "FAILED", "\(label): \(state.status) \(state.error ?? "")")
                        #expect(state.error == "Fault.Structured" && state.cause == "task \(n)", "\(label): \(state.error ?? "") \(state.cause ?? "")")
                    } else {
                        #expect(state.status == "FAILED", "\(label): \(state.status) \(state.error ?? "")")
                        #expect(state.error == "Handler.Failed" && state.cause?.contains("exit status 5") == true, "\(label): \(state.error ?? "")")
                    }
                    // One result accepted; every other call for the task was a retry of that same
                    // result, refused because the task had finished.
                    #expect(state.conflictingResults == 0, "\(label): two different outcomes reported")
                    #expect(state.resultAttempts == 1 + state.rejectedResults, "\(label): \(state.resultAttempts) result calls")
                    if index == 0 {
                        heartbeats.append(state.heartbeatCount)
                        slowSpans.append((try #require(state.startedAt), try #require(state.finishedAt)))
                    }
                    rejected += state.rejectedResults
                }
            }
            // Heartbeats go on through the faults: no task timed out (above: every slow task has
            // its own outcome, none States.HeartbeatTimeout), and they kept arriving at least as
            // fast as the rate limiter's rules allow when the injected throttles cut it the most.
            let heartbeatFaults = try #require(plans.first { $0.operation == "SendTaskHeartbeat" })
            let fewest = try Self.fewestHeartbeats(
                spans: slowSpans, interval: 0.25, slots: 4, refusedAttempts: heartbeatFaults.total - heartbeatFaults.afterCount)
            #expect(heartbeats.reduce(0, +) >= fewest, "heartbeats per slow task: \(heartbeats); the limiter's rules allow no fewer than \(fewest)")

            // A result whose answer was lost after the endpoint took it is sent once more and
            // refused (the task has finished): refused calls match those faults exactly. A result
            // sent again for no reason shows up as more, one whose retry was dropped as fewer.
            let afterOperation = plans.filter { ["SendTaskSuccess", "SendTaskFailure"].contains($0.operation) }
                .reduce(0) { $0 + $1.afterCount }
            #expect(rejected == afterOperation, "refused result calls: \(rejected), answers lost after the operation: \(afterOperation)")
            let pending = try await h.admin.pendingFaults()
            #expect(pending.isEmpty, "faults never hit: \(pending)")
            let stats = try await h.admin.stats()
            for plan in plans {
                #expect((stats.requests[plan.operation] ?? 0) > plan.total, "\(plan.operation): \(stats.requests[plan.operation] ?? 0) requests")
            }
            // Each handler ran exactly once.
            for directory in [slow, quick] {
                #expect(lines(of: directory + "/runs").compactMap(Int.init).sorted() == Array(0..<tasksPerActivity), "\(directory)")
            }
            // The daemon took "the task is gone" for a result retried after a dropped or failed
            // attempt as most likely delivered, and counted it so.
            #expect(h.daemonLog.contains("Result most likely delivered by an earlier attempt whose answer was lost"))
            // Every task counted as succeeded or failed, none as gone: STATUS adds up to 48.
            notify.collect()  // the last datagram may have come just before the exit
            let final = notify.assignments.last { $0.hasPrefix("STATUS=stopped; ") }
            #expect(final == "STATUS=stopped; 0 running, 24 succeeded, 24 failed; 2 activities", "\(final ?? "none")")
            print("DaemonFaultTests: 48 tasks through \(plans.reduce(0) { $0 + $1.total }) faults in \(clock.now - started); \(heartbeats.reduce(0, +)) heartbeats (no fewer than \(fewest) allowed)")
        }
    }

    /// Heartbeats go out at the configured interval, and a task the endpoint times out for a
    /// missed heartbeat has its whole handler group killed and nothing reported for it.
    @Test func heartbeatsKeepTheirRateAndAMissedHeartbeatKillsTheHandlerGroupAndReportsNothing() async throws {
        try await DaemonProcessTests.withHarness { h in
            let grandchildFile = h.directory.path + "/grandchild.pid"
            let (config, arns) = try await h.configuration(activities: [
                .init(name: "beating", script: "sleep 1.5; echo '{}'", concurrency: 1, heartbeat: "300ms"),
                // Heartbeats every 3 s; the task wants one every second, so the endpoint times it
                // out first and the daemon learns at its first heartbeat. The grandchild ignores TERM.
                .init(
                    name: "abandoned",
                    script: #"sh -c 'trap "" TERM; echo $$ > \#(grandchildFile); exec sleep 60' & sleep 60"#,
                    concurrency: 1, heartbeat: "3s", extra: #"kill_grace = "300ms""#),
            ])
            let beating = try await h.admin.submitTask(activityArn: arns[0], heartbeatSeconds: 5)
            let abandoned = try await h.admin.submitTask(activityArn: arns[1], heartbeatSeconds: 1)
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")

            let beat = try await h.finished(beating, notify: notify, timeout: .seconds(20))
            #expect(beat.status == "SUCCEEDED")
            let ran = try Self.seconds(from: #require(beat.startedAt), to: #require(beat.finishedAt))
            // One beat every 240-300 ms while the handler ran: never more than that allows, and at
            // least half as many even when a loaded machine delays timers.
            let most = Int(ran / 0.24) + 1, least = max(2, Int(ran / 0.3 / 2))
            #expect((least...most).contains(beat.heartbeatCount), "\(beat.heartbeatCount) heartbeats in \(ran) s")

            let gone = try await h.finished(abandoned, notify: notify, timeout: .seconds(20))
            #expect(gone.status == "TIMED_OUT")
            #expect(gone.error == "States.HeartbeatTimeout")
            let grandchild = try await Self.readPID(grandchildFile)
            defer { if !processIsGone(grandchild) { kill(grandchild, SIGKILL) } }
            #expect(try await waitUntil(timeout: .seconds(15)) {
                notify.collect()
                return processIsGone(grandchild)
            }, "the handler's group outlived its task")
            #expect(h.daemonLog.contains("Heartbeat answered that the task is gone"), "\(h.daemonLog)")

            // The drain delivers anything left in the outbox: still nothing for the dead task.
            #expect(await h.stop(process, notify: notify) == 0, "\(h.daemonLog)")
            let after = try await h.admin.task(abandoned)
            #expect(after.resultAttempts == 0, "a result was sent for a task the endpoint had timed out")
            #expect(h.stateLeftovers.isEmpty, "\(h.stateLeftovers)")
        }
    }

    /// The fewest heartbeats the endpoint can have taken from slow tasks that ran over `spans`
    /// (the endpoint's start and finish of each), each heartbeating every `interval` s, when
    /// `refusedAttempts` attempts met faults that left them without effect, by the rate
    /// limiter's rules (AdaptiveRate, docs/fleet.md) in their worst case: the throttles among the
    /// faults (the first heartbeat attempts and their retries, all within a second of the first
    /// task's start) cut the heartbeat lane to its floor, 0.5 calls/s, a second after that start;
    /// from there its limit climbs 0.5 calls/s every second while heartbeats wait for it, and while
    /// none waits each running task sends at least one every `interval` plus its round trip
    /// (taken as another `interval`). Each task's first heartbeat comes one interval after its start.
    static func fewestHeartbeats(
        spans: [(start: String, end: String)], interval: Double, slots: Int, refusedAttempts: Int
    ) throws -> Int {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let runs = try spans.map { (try style.parse($0.start).timeIntervalSince1970 + interval, try style.parse($0.end).timeIntervalSince1970) }
        guard let first = runs.map(\.0).min(), let last = runs.map(\.1).max() else { return 0 }
        let parameters = AdaptiveRate.Parameters()
        let step = 0.01
        var allowed = 0.0
        for t in stride(from: first, to: last, by: step) {
            let running = runs.filter { $0.0 <= t && t < $0.1 }.count
            let limit = parameters.minimumRate + parameters.increase * max(0, t - first - 1)
            allowed += min(limit, Double(running) / (2 * interval)) * step
        }
        // Less the attempts refused, and a heartbeat per slot let go as its task ended.
        return max(0, Int(allowed) - refusedAttempts - slots)
    }

    static func seconds(from start: String, to end: String) throws -> Double {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try style.parse(end).timeIntervalSince(style.parse(start))
    }

    static func readPID(_ path: String) async throws -> pid_t {
        func pid() -> pid_t? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        guard try await waitUntil(timeout: .seconds(10), { pid() != nil }), let found = pid() else {
            throw NotifySocket.Failure(description: "no pid in \(path) within 10 s")
        }
        return found
    }
}
