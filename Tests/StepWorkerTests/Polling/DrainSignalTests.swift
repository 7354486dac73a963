@testable import StepWorker
import Testing

@Suite(.timeLimit(.minutes(1)))
struct DrainSignalTests {
    @Test func aSleepEndsWhenDrainingBegins() async {
        let signal = DrainSignal()
        async let slept = signal.sleep(for: .seconds(30), on: ContinuousClock())
        while signal.waiting == 0 { await Task.yield() }
        signal.drain()
        #expect(await slept == false)
        #expect(signal.waiting == 0)
    }

    @Test func aFinishedSleepLeavesNoWaiterBehind() async {
        let signal = DrainSignal()
        for _ in 0..<50 {
            #expect(await signal.sleep(for: .milliseconds(1), on: ContinuousClock()))
        }
        #expect(signal.waiting == 0)
    }

    @Test func waitingAfterDrainReturnsAtOnce() async {
        let signal = DrainSignal()
        signal.drain()
        await signal.wait()
        #expect(await signal.sleep(for: .seconds(30), on: ContinuousClock()) == false)
    }
}
