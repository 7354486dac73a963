import Foundation
import Logging
import StepWorker
import StepWorkerTestKit
import Testing

/// Many real `/bin/sh` handlers at once through the one reactor thread.
@Suite("HandlerReactor: many handlers on one thread", .timeLimit(.minutes(1)))
struct HandlerReactorTests {
    let directory = TemporaryDirectory()
    let log = RecordingLogHandlerStore()
    let runner = SubprocessRunner()

    func invocation(_ path: String, input: [UInt8], timeout: Duration? = nil) -> HandlerInvocation {
        HandlerInvocation(
            executablePath: path, arguments: [path], environment: ["PATH": "/usr/bin:/bin"],
            workingDirectory: directory.path, input: input, timeout: timeout, killGrace: .seconds(5),
            maxOutput: 1 << 20, logger: log.logger())
    }

    @Test func sixtyFourHandlersEachGetTheirOwnOutputAndStatus() async {
        // Different durations, input sizes (up to 200 KB, more than a pipe holds) and exit codes.
        let script = directory.script("sleep 0.0$(( $1 % 5 )); wc -c; echo \"n=$1\"; exit $(( $1 % 7 ))", name: "many.sh")
        let results = await withTaskGroup(of: (Int, HandlerRunResult).self) { group in
            for n in 0..<64 {
                let input = [UInt8](repeating: UInt8(ascii: "x"), count: n * 3_000)
                var inv = invocation("/bin/sh", input: input)
                inv.arguments = ["/bin/sh", script, "\(n)"]
                let handler = runner.start(inv)
                group.addTask { (n, await handler.result()) }
            }
            var all: [Int: HandlerRunResult] = [:]
            for await (n, result) in group { all[n] = result }
            return all
        }
        #expect(results.count == 64)
        for (n, result) in results {
            #expect(result.termination == .exited(Int32(n % 7)))
            let text = String(decoding: result.stdout, as: UTF8.self)
            #expect(text == "\(n * 3_000)\nn=\(n)\n", "handler \(n)")
        }
    }

    @Test func oneHandlersStopAndTimeoutLeaveTheOthersRunning() async {
        let sleeper = directory.script("exec sleep 300", name: "sleeper.sh")
        let quick = directory.script("sleep 0.3; echo done", name: "quick.sh")
        let stopped = runner.start(invocation(sleeper, input: []))
        let timed = runner.start(invocation(sleeper, input: [], timeout: .milliseconds(100)))
        let others = (0..<8).map { _ in runner.start(invocation(quick, input: [])) }
        stopped.terminate(.taskGone)
        #expect(await stopped.result().termination == .stopped(.taskGone))
        #expect(await timed.result().termination == .timedOut(limit: .milliseconds(100)))
        for other in others {
            let result = await other.result()
            #expect(result.termination == .exited(0))
            #expect(String(decoding: result.stdout, as: UTF8.self) == "done\n")
        }
    }

    @Test func sixteenRunningHandlersAddNoThreadPerHandler() async throws {
        let sleeper = directory.script("exec sleep 300", name: "sleeper.sh")
        let warm = runner.start(invocation(sleeper, input: []))  // starts the reactor thread
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        let handlers = (0..<16).map { _ in runner.start(invocation(sleeper, input: [])) }
        let during = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
        for handler in handlers + [warm] { handler.terminate(.taskGone) }
        for handler in handlers + [warm] { #expect(await handler.result().termination == .stopped(.taskGone)) }
        // Other suites run in this process too; a thread per handler would add 16.
        #expect(during - before < 8, "threads before \(before), with 16 more handlers \(during)")
    }

    @Test func theReactorThreadLetsTheKernelDropItsChildrensSIGCHLD() async throws {
        // Blocked on the handlers' parent thread, a handler's SIGCHLD is passed to a thread that
        // takes signals (the daemon's main thread, libdispatch's) only to be ignored there.
        let quick = directory.script("exit 0", name: "quick.sh")
        #expect(await runner.start(invocation(quick, input: [])).result().termination == .exited(0))
        let reactors = threads(of: getpid(), named: "handlers")
        #expect(!reactors.isEmpty)
        for tid in reactors {
            let blocked = try #require(UInt64(threadStatus(process: getpid(), thread: tid)["SigBlk"] ?? "", radix: 16))
            #expect(blocked & (1 << (UInt64(SIGCHLD) - 1)) == 0, "thread \(tid) blocks SIGCHLD: SigBlk \(String(blocked, radix: 16))")
        }
    }
}
