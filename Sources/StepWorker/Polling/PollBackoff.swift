public import StepFunctions

/// How long a poller waits after a failed `GetActivityTask`, by the kind of failure. 5xx, network
/// errors and `ActivityWorkerLimitExceeded` back off from a fraction of a second; an activity that
/// does not exist or credentials that are refused will not mend in a second, so they are retried
/// slowly (at most a minute apart, which the watchdog's stall limit of 100 s still sees as
/// progress) rather than spun on. A successful poll resets the count.
///
/// Throttling backs off briefly only: the client's rate limiter, shared by every poller of the
/// daemon, slows polls as a whole after a throttle (docs/fleet.md); a poller that also backed off
/// on its own would only leave budget unused.
public struct PollBackoff: Sendable, Equatable {
    public var retryable: RetryPolicy
    public var slow: RetryPolicy
    public var throttled: RetryPolicy

    public init(
        retryable: RetryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .milliseconds(200), maxDelay: .seconds(30)),
        slow: RetryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(10), maxDelay: .seconds(60)),
        throttled: RetryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .milliseconds(20), maxDelay: .seconds(1))
    ) {
        self.retryable = retryable
        self.slow = slow
        self.throttled = throttled
    }

    /// The wait after the `failures`-th failure in a row (1 for the first).
    public func delay(after error: any Error, failures: Int, unitRandom: Double) -> Duration {
        let policy: RetryPolicy
        switch (error as? StepFunctionsError)?.kind {
        case .throttled: policy = throttled
        case .transient, .workerLimit: policy = retryable
        case .invalidRequest, .taskGone, nil: policy = slow
        }
        // Full jitter, but never less than a tenth of the ceiling: a poller must not spin.
        let ceiling = policy.ceiling(beforeRetry: failures - 1)
        return ceiling / 10 + policy.delay(beforeRetry: failures - 1, unitRandom: unitRandom) * 0.9
    }
}
