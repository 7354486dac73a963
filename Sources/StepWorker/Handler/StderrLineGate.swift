import POSIXSupport
import Synchronization

/// One handler process's `LineRateLimiter`, shared by the reactor's thread, which reads the
/// stderr lines and asks it about each, and whoever counts a task's dropped lines: the run of a
/// stdio handler (one task, one process), or a warm slot (`WarmProcess`), which starts a new
/// budget at each task it hands over, so a warm process's lines are limited per task held and,
/// between tasks, on the last task's budget.
final class StderrLineGate: Sendable {
    private let limiter: Mutex<LineRateLimiter>
    let policy: LineRateLimiter.Policy

    init(policy: LineRateLimiter.Policy = .handlerStderr, now: Int64 = POSIX.nowMilliseconds()) {
        self.policy = policy
        limiter = Mutex(LineRateLimiter(policy: policy, now: now))
    }

    /// Runs `body` with the limiter (the reactor: once per chunk read, not per line).
    func withLimiter<Result: Sendable>(_ body: (inout LineRateLimiter) -> Result) -> Result {
        limiter.withLock { body(&$0) }
    }

    /// Lines dropped since the process started or its current task was handed over.
    var droppedLines: Int { limiter.withLock { $0.dropped } }

    /// When dropped lines are next due to be reported, if any are waiting.
    var reportDue: Int64? { limiter.withLock { $0.reportDue } }

    /// A new task (or a new process in the slot): a full burst, and the count from zero.
    func restart(now: Int64 = POSIX.nowMilliseconds()) {
        limiter.withLock { $0.restart(now: now) }
    }
}
