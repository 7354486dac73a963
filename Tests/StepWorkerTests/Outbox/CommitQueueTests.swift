@testable import StepWorker
import Testing

/// What the journal's committer takes next, without threads: a batch is everything queued
/// while the previous one ran, in order, synced if any record in it must be durable.
@Suite struct CommitQueueTests {
    @Test func recordsQueuedWhileABatchRunsShareTheNextOne() {
        var queue = CommitQueue<String>()
        queue.enqueue([1], sync: true, waiter: "a")
        let first = queue.takeBatch()
        #expect(first?.bytes == [1] && first?.waiters == ["a"] && first?.sync == true)
        queue.enqueue([2], sync: true, waiter: "b")
        queue.enqueue([3, 4], sync: true, waiter: "c")
        let second = queue.takeBatch()
        #expect(second?.bytes == [2, 3, 4] && second?.waiters == ["b", "c"])
        #expect(queue.isEmpty && queue.takeBatch() == nil, "nothing left")
    }

    @Test func oneDurableRecordMakesTheWholeBatchSyncAndAcknowledgementsAloneDoNot() {
        var queue = CommitQueue<String>()
        queue.enqueue([9], sync: false, waiter: "ack")
        queue.enqueue([1], sync: true, waiter: "started")
        #expect(queue.takeBatch()?.sync == true)
        queue.enqueue([9], sync: false, waiter: "ack")
        queue.enqueue([8], sync: false, waiter: "forget")
        let acks = queue.takeBatch()
        #expect(acks?.sync == false && acks?.bytes == [9, 8])
        queue.enqueue([1], sync: true, waiter: "next")
        #expect(queue.takeBatch()?.sync == true, "the sync flag does not outlive its batch")
    }
}
