import Foundation
import StepWorkerTestKit
import StepFunctions
import StepFunctionsLocal
import Testing

/// `stepworker run` as the built binary under load: 500 tasks over three activities of different
/// capacity, real handlers, the real local endpoint.
@Suite("stepworker run under load", .timeLimit(.minutes(3)))
struct DaemonLoadTests {
    /// What each task is asked to do, by its number.
    enum Kind: String, CaseIterable {
        case ok, structured, exit
    }

    /// A handler that records, in `directory`, its run (`runs`) and how many handlers of its
    /// activity run at the moment it starts (`counts`: one file per running handler under
    /// `running/`, counted with one directory read), then succeeds with an output naming the task,
    /// fails with a structured error, or exits 4, as the input's `kind` says.
    static func handler(activity: String, directory: String) -> String {
        """
        d=\(directory)
        read -r input
        n=${input#*\\"n\\":}; n=${n%%,*}
        : > "$d/running/$$"
        set -- "$d"/running/*
        echo $# >> "$d/counts"
        echo "$n" >> "$d/runs"
        sleep 0.1
        rm -f "$d/running/$$"
        case "$input" in
        *'"kind":"ok"'*) printf '{"n":%s,"activity":"\(activity)"}\\n' "$n" ;;
        *'"kind":"structured"'*) printf '{"error":"Load.Structured","cause":"task %s"}\\n' "$n"; exit 3 ;;
        *) echo "plain failure of task $n" >&2; exit 4 ;;
        esac
        """
    }

    struct Submitted {
        var id: String
        var n: Int
        var kind: Kind
        var activity: Int
    }

    @Test func fiveHundredTasksReachTheirOutcomeAndNoActivityEverUsesMoreThanItsConcurrency() async throws {
        try await DaemonProcessTests.withHarness { h in
            let clock = ContinuousClock()
            let started = clock.now
            // Pollers at most concurrency (the configuration allows no more); one activity polls
            // with fewer pollers than slots.
            let shapes: [(name: String, concurrency: Int, pollers: Int?, tasks: Int)] = [
                ("narrow", 2, nil, 100), ("middle", 5, 5, 160), ("wide", 8, 3, 240),
            ]
            var specs: [DaemonProcessTests.Harness.ActivitySpec] = []
            var directories: [String] = []
            for shape in shapes {
                let directory = h.directory.path + "/\(shape.name)"
                try FileManager.default.createDirectory(atPath: directory + "/running", withIntermediateDirectories: true)
                directories.append(directory)
                specs.append(.init(
                    name: shape.name, script: Self.handler(activity: shape.name, directory: directory),
                    concurrency: shape.concurrency, pollers: shape.pollers))
            }
            let (config, arns) = try await h.configuration(activities: specs)

            // Every task is queued before the daemon starts, so its slots fill at once.
            var submitted: [Submitted] = []
            for (index, shape) in shapes.enumerated() {
                for n in 0..<shape.tasks {
                    let kind = Kind.allCases[n % 3]
                    let id = try await h.admin.submitTask(activityArn: arns[index], input: #"{"n":\#(n),"kind":"\#(kind.rawValue)"}"#)
                    submitted.append(Submitted(id: id, n: n, kind: kind, activity: index))
                }
            }
            let notify = try NotifySocket(path: h.directory.path + "/notify")
            let process = try h.start(config: config, notify: notify)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await notify.waitFor { $0 == "READY=1" }, "\(h.daemonLog)")
            // The main thread is libdispatch's signal thread: it wakes for signals only. A
            // handler's exit must not be one of them (HandlerReactor.dropChildSignals).
            let pid = process.processIdentifier
            let mainThreadSwitches = contextSwitches(process: pid, thread: pid)

            var counts = (succeeded: 0, failed: 0)
            let deadline = clock.now + .seconds(90)  // for all of them: a lost task costs it once
            for task in submitted {
                let state = try await h.finished(task.id, notify: notify, timeout: deadline - clock.now)
                let name = shapes[task.activity].name
                let label = "\(name) task \(task.n) (\(task.kind))"
                switch task.kind {
                case .ok:
                    counts.succeeded += 1
                    #expect(state.status == "SUCCEEDED", "\(label): \(state.status) \(state.error ?? "") \(state.cause ?? "")")
                    #expect(state.output == #"{"n":\#(task.n),"activity":"\#(name)"}"#, "\(label)")
                case .structured:
                    counts.failed += 1
                    #expect(state.status == "FAILED", "\(label): \(state.status)")
                    #expect(state.error == "Load.Structured", "\(label)")
                    #expect(state.cause == "task \(task.n)", "\(label)")
                case .exit:
                    counts.failed += 1
                    #expect(state.status == "FAILED", "\(label): \(state.status)")
                    #expect(state.error == "Handler.Failed", "\(label)")
                    #expect(state.cause?.contains("exit status 4") == true, "\(label): \(state.cause ?? "")")
                    #expect(state.cause?.contains("plain failure of task \(task.n)") == true, "\(label): \(state.cause ?? "")")
                }
                // No faults here: one result call per task, and the endpoint took it.
                #expect(state.resultAttempts == 1 && state.rejectedResults == 0, "\(label): \(state.resultAttempts) result calls")
            }
            let served = clock.now - started
            let mainThreadWakes = contextSwitches(process: pid, thread: pid) - mainThreadSwitches
            #expect(mainThreadWakes < 25, "the main thread woke \(mainThreadWakes) times for 500 handlers' exits")
            // Every connection on one event loop (RunCommand): NIO names its singleton's loops so.
            let loops = threads(of: pid, prefix: "NIO-SGLTN-")
            #expect(loops.count == 1, "\(loops.count) event loop threads")

            let stats = try await h.admin.stats()
            for (index, shape) in shapes.enumerated() {
                let activity = try #require(stats.activities[arns[index]])
                // Open polls plus started, unfinished tasks, as the endpoint saw them at every
                // moment: a daemon that polled without a free slot would exceed its concurrency here.
                #expect(activity.maxSlotsInUse <= shape.concurrency, "\(shape.name): \(activity.maxSlotsInUse) slots in use at once")
                #expect(activity.maxOpenPolls <= (shape.pollers ?? shape.concurrency), "\(shape.name): \(activity.maxOpenPolls) open polls")
                if (shape.pollers ?? shape.concurrency) == shape.concurrency {
                    // With a backlog every slot fills: the bound above is not met vacuously.
                    #expect(activity.maxSlotsInUse == shape.concurrency, "\(shape.name): \(activity.maxSlotsInUse)")
                }
                // The handlers' own view: never more running at once than the concurrency.
                let running = lines(of: directories[index] + "/counts").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                #expect(running.count == shape.tasks)
                #expect((1...shape.concurrency).contains(running.max() ?? 0), "\(shape.name): \(running.max() ?? 0) handlers at once")
                // Every handler ran exactly once.
                let runs = lines(of: directories[index] + "/runs").compactMap(Int.init)
                #expect(runs.sorted() == Array(0..<shape.tasks), "\(shape.name): \(runs.count) runs")
            }

            let status = "STATUS=0 running, \(counts.succeeded) succeeded, \(counts.failed) failed; 3 activities"
            #expect(await notify.waitFor(timeout: .seconds(5)) { $0 == status }, "\(notify.assignments.last { $0.hasPrefix("STATUS=") } ?? "")")
            #expect(await h.stop(process, notify: notify) == 0, "\(h.daemonLog)")
            #expect(h.stateLeftovers.isEmpty, "\(h.stateLeftovers)")
            #expect(try await h.admin.stats().activities.values.allSatisfy { $0.openPolls == 0 && $0.slotsInUse == 0 })
            print("DaemonLoadTests: 500 tasks served in \(served), \(clock.now - started) with the drain")
        }
    }
}
