public import Logging
import POSIXSupport
public import StepFunctions

/// Sends one result until the service takes it, says its token is dead, or refuses it. Throttling,
/// 5xx and network errors are retried without end (capped backoff with full jitter); only
/// cancellation stops a delivery. No disk: `TaskLedger` keeps the result before calling this and
/// clears it after.
public struct ResultDelivery: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The service took this result: the one sent last, which is not the one given when the
        /// service refused a success and its `Handler.InvalidOutput` failure went instead.
        case delivered(TaskResult)
        /// The token is dead (task timed out or stopped): nothing more can be said about it.
        case taskGone
        /// The service refused this failure report itself: retrying cannot help.
        case refused(TaskResult, reason: String)
    }

    let service: any ActivityService
    let clock: any Clock<Duration>
    let jitter: any JitterSource
    let backoff: RetryPolicy
    let logger: Logger
    let metrics: WorkerMetrics

    public init(
        service: any ActivityService, clock: any Clock<Duration> = ContinuousClock(), jitter: any JitterSource = SystemJitter(),
        backoff: RetryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(1), maxDelay: .seconds(60)),
        logger: Logger, metrics: WorkerMetrics = WorkerMetrics()
    ) {
        self.service = service
        self.clock = clock
        self.jitter = jitter
        self.backoff = backoff
        self.logger = logger
        self.metrics = metrics
    }

    /// Sends `result`. Throws only `CancellationError`. `activity` names the activity in the
    /// retry metric; `logger` carries the task's fields.
    public func deliver(_ result: TaskResult, token: TaskToken, activity: String? = nil, logger: Logger? = nil) async throws -> Outcome {
        let logger = logger ?? self.logger
        let retried = activity.map { metrics.activity($0) }
        var result = result
        var retry = 0
        // An attempt that failed after the request may have reached the service (a dropped
        // connection, a 5xx): the service may have taken that result without our hearing it.
        var mayHaveArrived = false
        while true {
            let failure: any Error
            do {
                switch result {
                case .success(let output): try await service.sendTaskSuccess(token: token, output: output)
                case .failure(let error, let cause): try await service.sendTaskFailure(token: token, error: error, cause: cause)
                }
                return .delivered(result)
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as StepFunctionsError {
                switch error.kind {
                case .taskGone where mayHaveArrived || error.afterAmbiguousAttempt:
                    // Most likely the earlier attempt was taken and only its answer was lost.
                    logger.info("Result most likely delivered by an earlier attempt whose answer was lost", metadata: [
                        "error": "\(error.code)", "retry": "\(retry)",
                    ])
                    return .delivered(result)
                case .taskGone:
                    logger.info("Task is gone; result not delivered", metadata: ["error": "\(error.code)"])
                    return .taskGone
                case .invalidRequest where Self.isRefusalOfTheResult(error):
                    guard let instead = TaskFate.afterRefusal(of: result, reason: error.description) else {
                        logger.error("Service refused the failure report; dropping it", metadata: ["error": "\(error)"])
                        return .refused(result, reason: error.description)
                    }
                    logger.warning("Service refused the output; sending a failure", metadata: ["error": "\(error)"])
                    result = instead
                    continue
                default:
                    if error.kind == .transient { mayHaveArrived = true }
                    failure = error
                }
            } catch {
                // The credential provider failed; the next attempt may find credentials again.
                failure = error
            }
            let delay = backoff.delay(beforeRetry: retry, unitRandom: jitter.next())
            logger.warning("Could not deliver result; retrying", metadata: [
                "error": "\(failure)", "retry": "\(retry + 1)", "delay_ms": "\(delay.milliseconds)",
            ])
            retry += 1
            retried?.resultRetried()
            try await clock.sleep(for: delay)
        }
    }

    /// Errors that say the result itself is unacceptable, as opposed to the caller (auth) or the
    /// activity being wrong, which a later attempt with fixed credentials can get past.
    static func isRefusalOfTheResult(_ error: StepFunctionsError) -> Bool {
        ["ValidationException", "InvalidOutput", "SerializationException"].contains(error.code)
    }
}
