import Synchronization

/// Lets shutdown stop every running handler of a pool once its grace has run out. The stop
/// carries its reason (`HandlerStopReason.shutdownGrace`), so the task's fate follows from the
/// run's result alone.
public final class HandlerStopSwitch: Sendable {
    private struct State {
        var stopping = false
        var handlers: [UInt64: any RunningHandler] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Tracks `handler` until `detach`; stops it at once if stopping already began.
    func attach(_ handler: any RunningHandler) -> UInt64 {
        let (id, stopNow) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            if !state.stopping { state.handlers[state.nextID] = handler }
            return (state.nextID, state.stopping)
        }
        if stopNow { handler.terminate(.shutdownGrace) }
        return id
    }

    func detach(_ id: UInt64) {
        _ = state.withLock { $0.handlers.removeValue(forKey: id) }
    }

    /// Stops every attached handler and any attached later.
    public func stopAll() {
        let handlers = state.withLock { state in
            state.stopping = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler.terminate(.shutdownGrace) }
    }
}
