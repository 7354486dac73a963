import StepWorker
import StepWorkerTestKit
import Testing

@Suite(.timeLimit(.minutes(1)))
struct SlotPoolTests {

    @Test func neverHandsOutMoreThanItsCapacity() async throws {
        let pool = SlotPool(capacity: 3)
        let peak = PeakCounter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await pool.acquire()
                    peak.enter()
                    try await Task.sleep(for: .microseconds(200))
                    peak.leave()
                    pool.release()
                }
            }
            try await group.waitForAll()
        }
        #expect(peak.maximum == 3)
        #expect(pool.snapshot == .init(capacity: 3, held: 0, waiting: 0))
    }

    @Test func waitersAreServedInOrder() async throws {
        let pool = SlotPool(capacity: 1)
        try await pool.acquire()
        let order = OrderRecorder()
        let first = Task { try await pool.acquire(); order.append(1); pool.release() }
        #expect(try await waitUntil { pool.snapshot.waiting == 1 })
        let second = Task { try await pool.acquire(); order.append(2); pool.release() }
        #expect(try await waitUntil { pool.snapshot.waiting == 2 })
        pool.release()
        try await first.value
        try await second.value
        #expect(order.values == [1, 2])
    }

    @Test func aCancelledWaiterTakesNoSlot() async throws {
        let pool = SlotPool(capacity: 1)
        try await pool.acquire()
        let waiter = Task { try await pool.acquire() }
        #expect(try await waitUntil { pool.snapshot.waiting == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pool.snapshot == .init(capacity: 1, held: 1, waiting: 0))
        pool.release()
        #expect(pool.tryAcquire())
    }

    @Test func growingAdmitsWaitersAndShrinkingLetsHeldSlotsDrain() async throws {
        let pool = SlotPool(capacity: 1)
        try await pool.acquire()
        let waiter = Task { try await pool.acquire() }
        #expect(try await waitUntil { pool.snapshot.waiting == 1 })
        pool.resize(to: 2)
        try await waiter.value
        #expect(pool.snapshot.held == 2)

        pool.resize(to: 1)
        #expect(!pool.tryAcquire())
        pool.release()
        #expect(!pool.tryAcquire(), "one slot is still held and the capacity is now 1")
        pool.release()
        #expect(pool.tryAcquire())
    }

    @Test func closingRefusesWaitersAndNewcomers() async throws {
        let pool = SlotPool(capacity: 1)
        try await pool.acquire()
        let waiter = Task { try await pool.acquire() }
        #expect(try await waitUntil { pool.snapshot.waiting == 1 })
        pool.close()
        await #expect(throws: SlotPool.Closed.self) { try await waiter.value }
        await #expect(throws: SlotPool.Closed.self) { try await pool.acquire() }
        pool.release()
        #expect(pool.snapshot.held == 0)
    }
}

import Synchronization

final class PeakCounter: Sendable {
    private let state = Mutex((current: 0, maximum: 0))
    func enter() { state.withLock { $0.current += 1; $0.maximum = max($0.maximum, $0.current) } }
    func leave() { state.withLock { $0.current -= 1 } }
    var maximum: Int { state.withLock { $0.maximum } }
}

final class OrderRecorder: Sendable {
    private let state = Mutex<[Int]>([])
    func append(_ value: Int) { state.withLock { $0.append(value) } }
    var values: [Int] { state.withLock { $0 } }
}
