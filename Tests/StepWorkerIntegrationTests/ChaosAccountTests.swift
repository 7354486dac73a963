import Foundation
import Testing

/// The chaos suite's accounting rules on made-up records: no processes, no time.
@Suite("Chaos account")
struct ChaosAccountTests {
    let kill = Date(timeIntervalSince1970: 1_000)

    func task(_ key: String, _ status: String, output: String? = nil, error: String? = nil, handedOut: TimeInterval? = nil,
              starts: Int = 1, conflicts: Int = 0, worker: String = "run-0") -> ChaosAccount.Task {
        let input = ChaosInput.make(key: key, sleep: "0")
        return ChaosAccount.Task(
            key: key, input: input, status: status, output: output == "own" ? input : output, error: error,
            startedAt: handedOut.map { kill.addingTimeInterval($0) }, workerName: worker, conflictingResults: conflicts, handlerStarts: starts)
    }

    func account(_ tasks: [ChaosAccount.Task]) -> ChaosAccount {
        ChaosAccount(tasks: tasks, kills: ["run-0": kill], window: 1, deadPollLife: 2)
    }

    @Test func successesWithTheirOwnOutputAndInterruptionsAreFine() {
        let result = account([
            task("a", "SUCCEEDED", output: "own"), task("b", "FAILED", error: "Worker.Interrupted"),
            task("c", "FAILED", error: "Worker.Interrupted", starts: 0),
        ])
        #expect(result.problems.isEmpty)
        #expect(result.succeeded == 1)
        #expect(result.interrupted == 2)
        #expect(result.interruptedRunning == 1)
    }

    @Test func aTaskNeverStartedIsLostInFlightBeforeItsRunsKillAndToADeadPollAfterIt() {
        let result = account([task("a", "TIMED_OUT", handedOut: -0.004, starts: 0), task("b", "TIMED_OUT", handedOut: 0.5, starts: 0)])
        #expect(result.problems.isEmpty)
        #expect(result.lostInFlight.count == 1)
        #expect(abs(result.lostInFlight[0] - 4) < 0.01)
        #expect(result.lostToDeadPoll.count == 1)
    }

    @Test func everyBrokenPromiseIsAProblem() {
        let result = account([
            task("started-lost", "TIMED_OUT", handedOut: -0.004),
            task("old-loss", "TIMED_OUT", handedOut: -5, starts: 0),
            task("late-loss", "TIMED_OUT", handedOut: 5, starts: 0),
            task("lost-by-a-live-run", "TIMED_OUT", handedOut: -0.004, starts: 0, worker: "run-1"),
            task("twice", "SUCCEEDED", output: "own", starts: 2),
            task("conflict", "SUCCEEDED", output: "own", conflicts: 1),
            task("wrong", "SUCCEEDED", output: #"{"id":"other"}"#),
            task("other-error", "FAILED", error: "Handler.Failed"),
            task("unfinished", "STARTED"),
        ])
        #expect(result.problems.count == 9, "\(result.problems)")
        #expect(result.succeeded == 2)
    }

    @Test func theInputCarriesItsKey() throws {
        #expect(ChaosInput.key(of: ChaosInput.make(key: "t17", sleep: "0.030")) == "t17")
        let date = try #require(ChaosInput.date("2024-05-01T12:00:00.123Z"))
        #expect(abs(date.timeIntervalSince1970 - 1_714_564_800.123) < 0.0005)
    }
}
