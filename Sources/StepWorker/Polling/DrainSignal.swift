import Synchronization

/// A one-way switch from running to draining that tasks can wait on, so a poller sleeping in
/// backoff wakes as soon as the worker starts to stop (an open poll is never interrupted: it
/// checks the switch when it returns).
public final class DrainSignal: Sendable {
    private struct State {
        var draining = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isDraining: Bool { state.withLock { $0.draining } }

    /// Waiters parked now (for tests: none may be left behind).
    var waiting: Int { state.withLock { $0.waiters.count } }

    public func drain() {
        let waiters = state.withLock { state in
            state.draining = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once draining began, or when the calling task is cancelled.
    public func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.draining || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Sleeps for `delay` on `clock`, or less if draining begins; true if it slept the whole time.
    public func sleep(for delay: Duration, on clock: any Clock<Duration>) async -> Bool {
        if isDraining { return false }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await clock.sleep(for: delay)) != nil }
            group.addTask {
                await self.wait()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first && !isDraining
        }
    }
}
