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

/// When the committer writes: at once for a waiting writer; a record nobody waits for rides
/// with the next batch or goes alone after `linger`; a busy journal sleeps with a deadline.
@Suite struct CommitQueueTimingTests {
    @Test func aWaitingWriterIsWrittenAtOnce() {
        var queue = CommitQueue<String>()
        #expect(queue.next(now: 1_000, lastBatch: nil, linger: 50) == .sleepUntilWoken)
        queue.enqueue([1], sync: true, waiter: "started")
        #expect(queue.next(now: 1_000, lastBatch: 990, linger: 50) == .write)
    }

    @Test func aRecordNobodyWaitsForRidesWithTheNextBatchOrGoesAloneAfterTheLinger() {
        var queue = CommitQueue<String>()
        queue.enqueue([9], sync: false, awaited: false, now: 1_000, waiter: "cleared")
        queue.enqueue([8], sync: false, awaited: false, now: 1_030, waiter: "cleared too")
        // The first one's linger counts.
        #expect(queue.next(now: 1_030, lastBatch: nil, linger: 50) == .sleep(until: 1_050))
        #expect(queue.next(now: 1_050, lastBatch: nil, linger: 50) == .write)
        // A waiting writer comes first: they all go now, in one batch.
        queue.enqueue([1], sync: true, waiter: "result")
        #expect(queue.next(now: 1_031, lastBatch: nil, linger: 50) == .write)
        let batch = queue.takeBatch()
        #expect(batch?.bytes == [9, 8, 1] && batch?.sync == true)
        #expect(queue.next(now: 1_031, lastBatch: 1_031, linger: 50) == .sleep(until: 1_081), "the linger does not outlive its batch")
    }

    @Test func aBusyJournalSleepsWithADeadlineAndAnIdleOneUntilWoken() {
        let queue = CommitQueue<String>()
        #expect(queue.next(now: 1_020, lastBatch: 1_000, linger: 50) == .sleep(until: 1_050))
        #expect(queue.next(now: 1_050, lastBatch: 1_000, linger: 50) == .sleepUntilWoken)
    }
}
