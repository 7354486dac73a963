/// A handler that was started (or failed to start).
public protocol RunningHandler: Sendable {
    /// Asks the handler to stop now: TERM to its process group, KILL after `kill_grace`. Its
    /// result is then `.stopped(reason)` (unless it had already ended by itself). Safe to call
    /// more than once: the first reason is the one reported.
    func terminate(_ reason: HandlerStopReason)
    /// Waits for the end of the run. Never throws: failures are in the result.
    func result() async -> HandlerRunResult
}
