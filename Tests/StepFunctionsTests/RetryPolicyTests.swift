import StepFunctions
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .seconds(1))

    @Test func ceilingDoublesUpToTheCap() {
        let ceilings = (0..<7).map { policy.ceiling(beforeRetry: $0) }
        #expect(ceilings == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        #expect(policy.ceiling(beforeRetry: 10_000) == .seconds(1))
    }

    @Test func fullJitterScalesTheCeiling() {
        #expect(policy.delay(beforeRetry: 0, unitRandom: 0) == .zero)
        #expect(policy.delay(beforeRetry: 2, unitRandom: 0.5) == .milliseconds(200))
        #expect(policy.delay(beforeRetry: 9, unitRandom: 0.25) == .milliseconds(250))
    }

    @Test func retriesOnlyRetryableErrorsAndOnlyUpToTheLimit() {
        let throttled = StepFunctionsError(kind: .throttled, code: "ThrottlingException", message: "", operation: "Op")
        let gone = StepFunctionsError(kind: .taskGone, code: "TaskTimedOut", message: "", operation: "Op")
        #expect(policy.shouldRetry(after: throttled, attempt: 1))
        #expect(policy.shouldRetry(after: throttled, attempt: 3))
        #expect(!policy.shouldRetry(after: throttled, attempt: 4))
        #expect(!policy.shouldRetry(after: gone, attempt: 1))
        #expect(RetryPolicy(maxAttempts: nil).shouldRetry(after: throttled, attempt: 1_000_000))
        #expect(!RetryPolicy.none.shouldRetry(after: throttled, attempt: 1))
    }
}
