/// Capped exponential backoff with full jitter (the AWS SDKs' "standard" retry mode):
/// the delay before retry `n` (0-based) is uniform in `0 ... min(maxDelay, baseDelay * 2^n)`.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included; nil retries until the error stops being retryable or
    /// the calling task is cancelled.
    public var maxAttempts: Int?
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int?, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(20)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// For calls made on behalf of a caller who will try again anyway.
    public static let standard = RetryPolicy(maxAttempts: 5)
    /// No retry: the caller has its own loop (the poller).
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Whether another attempt may follow attempt number `attempt` (1-based) that failed with `error`.
    public func shouldRetry(after error: StepFunctionsError, attempt: Int) -> Bool {
        guard error.isRetryable else { return false }
        guard let maxAttempts else { return true }
        return attempt < maxAttempts
    }

    /// The delay before retry `retry` (0 for the first retry); `unitRandom` is uniform in [0, 1).
    public func delay(beforeRetry retry: Int, unitRandom: Double) -> Duration {
        let ceiling = self.ceiling(beforeRetry: retry)
        let clamped = min(max(unitRandom, 0), 1)
        return ceiling * clamped
    }

    /// `min(maxDelay, baseDelay * 2^retry)`, computed without overflow.
    public func ceiling(beforeRetry retry: Int) -> Duration {
        var ceiling = baseDelay
        for _ in 0..<max(0, retry) {
            ceiling = ceiling * 2
            if ceiling >= maxDelay { return maxDelay }
        }
        return min(ceiling, maxDelay)
    }
}
