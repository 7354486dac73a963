import Foundation
import StepFunctions
import StepWorker
import StepWorkerTestKit
import Testing

/// An `ActivityPool` of a lambda activity with the scripted service and a real warm process (the
/// curl bootstrap): the reservation a poll holds goes back when the poll brings nothing, the
/// task a poll brings runs in the warm process, and the pool's end stops the process.
@Suite(.timeLimit(.minutes(1)))
struct WarmActivityPoolTests {
    @Test func emptyPollsGiveTheProcessBackAndATaskRunsWarm() async throws {
        let directory = TemporaryDirectory()
        let bootstrap = directory.write("bootstrap", LambdaRuntimeFixtures.curlBootstrap, executable: true)
        let arn = "arn:aws:states:eu-west-1:123456789012:activity:warm-pool"
        let toml = """
            [worker]
            state_directory = "\(directory.path)/state"
            [[activity]]
            arn = "\(arn)"
            command = ["\(bootstrap)"]
            protocol = "lambda"
            concurrency = 1
            heartbeat = "0s"
            """
        let activity = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/c.toml").activities[0]
        let service = ScriptedActivityService()
        let log = RecordingLogHandlerStore()
        let runner = LambdaRunner(workerName: "pool-test", daemonEnvironment: [:], logger: log.logger())
        let ledger = try TaskLedger(
            stateDirectory: directory.path + "/state", delivery: ResultDelivery(service: service, logger: log.logger()))
        let taskRun = TaskRun(
            service: service, runner: runner, ledger: ledger, workerName: "pool-test", daemonEnvironment: [:], logger: log.logger())
        let pool = ActivityPool(activity: activity, service: service, taskRun: taskRun, workerName: "pool-test", logger: log.logger())
        let running = Task { await pool.run() }
        var events = service.events.makeAsyncIterator()

        // One slot, one warm process: a second poll can only open if the first one, empty, gave
        // its reservation back.
        for _ in 0..<3 {
            #expect(await events.next() == .polled(activityArn: arn))
            service.enqueue(nil, for: arn)
        }
        #expect(await events.next() == .polled(activityArn: arn))
        service.enqueue(ActivityTask(token: TaskToken("warm-pool-token"), input: #"{"n":1}"#), for: arn)
        guard case .succeeded(let token, let output) = await events.next() else {
            Issue.record("the task did not succeed")
            return
        }
        #expect(token == TaskToken("warm-pool-token"))
        #expect(output.contains(#""shell":{"n":1}"#))
        #expect(output.contains(#""id":"\#(token.fingerprint)""#), "the request id is the task's fingerprint")
        #expect(runner.warmProcessCount(for: activity) == 1)

        pool.drain()
        service.endPolls()
        await running.value
        #expect(runner.warmProcessCount(for: activity) == 0, "the pool's end stopped its warm process")
    }

    /// A reload removed the activity and added it back while the old pool still drained: the old
    /// pool's end leaves the processes the new one uses.
    @Test func theEndOfOnePoolLeavesTheProcessesAnotherPoolOfTheSameActivityUses() async throws {
        let directory = TemporaryDirectory()
        let bootstrap = directory.write("bootstrap", LambdaRuntimeFixtures.curlBootstrap, executable: true)
        let toml = """
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:shared"
            command = ["\(bootstrap)"]
            protocol = "lambda"
            working_directory = "\(directory.path)"
            """
        let activity = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: directory.path + "/c.toml").activities[0]
        let runner = LambdaRunner(workerName: "w", daemonEnvironment: [:], logger: RecordingLogHandlerStore().logger())
        let old = DrainSignal(), new = DrainSignal()
        for user in [old, new] {
            let reservation = await runner.reserve(for: activity, until: user)
            #expect(reservation != nil)
            reservation?.release()
        }
        old.drain()
        await runner.retire(activity)
        #expect(runner.warmProcessCount(for: activity) == 1, "the new pool still uses the process")
        new.drain()
        await runner.retire(activity)
        #expect(runner.warmProcessCount(for: activity) == 0)
    }
}
