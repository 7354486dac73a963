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
        /// A pipe whose read end the I/O thread polls; a byte on it wakes the thread. Open only
        /// while the run goes on.
        var wake: (read: Int32, write: Int32)?
        var result: HandlerRunResult?
        var waiters: [CheckedContinuation<HandlerRunResult, Never>] = []
    }

    private let state = Mutex(State())

    func terminate(_ reason: HandlerStopReason) {
        state.withLock { state in
            if state.stopReason == nil { state.stopReason = reason }
            if let wake = state.wake {
                var byte: UInt8 = 1
                _ = write(wake.write, &byte, 1)
            }
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

    /// Opens the wake-up pipe and returns the end the I/O thread polls; nil if the system
    /// refused a pipe.
    func openWake() -> Int32? {
        guard let wake = try? PosixIO.pipe() else { return nil }
        PosixIO.setNonBlocking(wake.read)
        PosixIO.setNonBlocking(wake.write)
        state.withLock { $0.wake = wake }
        return wake.read
    }

    func closeWake() {
        state.withLock { state in
            if let wake = state.wake {
                _ = close(wake.read)
                _ = close(wake.write)
            }
            state.wake = nil
        }
    }

    func finish(with result: HandlerRunResult) {
        let waiters = state.withLock { state in
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }
}
