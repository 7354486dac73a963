#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// The handle of one run: stop requests in, the result out. Shared by the caller and the
/// handler's thread.
final class HandlerRun: RunningHandler {
    private struct State {
        /// The first stop asked for, if any.
        var stopReason: HandlerStopReason?
        /// The reactor's eventfd; writing it wakes the reactor thread, which then reads
        /// `stopReason`.
        var wake: Int32?
        var result: HandlerRunResult?
        var waiters: [CheckedContinuation<HandlerRunResult, Never>] = []
    }

    private let state = Mutex(State())

    func terminate(_ reason: HandlerStopReason) {
        state.withLock { state in
            if state.stopReason == nil { state.stopReason = reason }
            if let wake = state.wake { HandlerReactor.wake(wake) }
        }
    }

    var stopReason: HandlerStopReason? {
        state.withLock { $0.stopReason }
    }

    func result() async -> HandlerRunResult {
        await withCheckedContinuation { continuation in
            let ready: HandlerRunResult? = state.withLock { state in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func attach(wake: Int32) {
        state.withLock { $0.wake = wake }
    }

    func finish(with result: HandlerRunResult) {
        let waiters = state.withLock { state in
            state.result = result
            state.wake = nil
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }
}
