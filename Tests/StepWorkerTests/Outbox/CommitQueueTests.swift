@testable import StepWorker
import Testing

/// Group commit's decisions, without threads: who commits, what a batch holds, who is done.
@Suite struct CommitQueueTests {
    struct Failure: Error, Equatable {}

    @Test func recordsQueuedWhileABatchRunsShareTheNextOne() {
        var queue = CommitQueue<Failure>()
        let a = queue.enqueue([1], sync: true)
        let first = queue.takeBatch()
        #expect(first == .init(bytes: [1], first: a, last: a, sync: true))
        let b = queue.enqueue([2], sync: true)
        let c = queue.enqueue([3, 4], sync: true)
        #expect(queue.takeBatch() == nil, "one committer at a time")
        #expect(queue.outcome(of: b) == .waiting)
        queue.finish(first!, error: nil)
        #expect(queue.outcome(of: a) == .done)
        #expect(queue.outcome(of: b) == .waiting)
        let second = queue.takeBatch()
        #expect(second == .init(bytes: [2, 3, 4], first: b, last: c, sync: true))
        queue.finish(second!, error: nil)
        #expect(queue.outcome(of: b) == .done && queue.outcome(of: c) == .done)
        #expect(queue.takeBatch() == nil, "nothing left")
    }

    @Test func aFailedBatchFailsEveryRecordInItAndNoOther() {
        var queue = CommitQueue<Failure>()
        let a = queue.enqueue([1], sync: true)
        let b = queue.enqueue([2], sync: true)
        queue.finish(queue.takeBatch()!, error: Failure())
        let c = queue.enqueue([3], sync: true)
        queue.finish(queue.takeBatch()!, error: nil)
        #expect(queue.outcome(of: a) == .failed(Failure()))
        #expect(queue.outcome(of: b) == .failed(Failure()))
        #expect(queue.outcome(of: c) == .done)
    }

    @Test func acknowledgementsNeedNoSyncButAreWrittenByWhoeverLeavesLast() {
        var queue = CommitQueue<Failure>()
        let started = queue.enqueue([1], sync: true)
        let batch = queue.takeBatch()!
        _ = queue.enqueue([9], sync: false)
        #expect(!queue.hasUnsyncedLeftovers, "the seat is taken")
        queue.finish(batch, error: nil)
        #expect(queue.outcome(of: started) == .done)
        #expect(queue.hasUnsyncedLeftovers)
        #expect(queue.takeBatch() == .init(bytes: [9], first: 2, last: 2, sync: false))
    }

    @Test func oneDurableRecordMakesTheWholeBatchSync() {
        var queue = CommitQueue<Failure>()
        _ = queue.enqueue([9], sync: false)
        _ = queue.enqueue([1], sync: true)
        #expect(!queue.hasUnsyncedLeftovers, "a durable writer will come for it")
        #expect(queue.takeBatch()?.sync == true)
    }
}
