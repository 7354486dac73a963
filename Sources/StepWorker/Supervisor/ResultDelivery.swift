import Logging
import StepFunctions

/// Delivers results from the outbox: sends each until the service acknowledges it or says its
/// token is dead, then removes it from the outbox. Throttling, 5xx and network errors are retried
/// without end (capped backoff with full jitter); only cancellation stops a delivery, and the
/// result then stays in the outbox for the next start.
public struct ResultDelivery: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The service took the result.
        case delivered
        /// The token is dead (task timed out or stopped): nothing more can be said about it.
        case taskGone
        /// The service refused the result itself (for example a failure whose `error` it rejects):
        /// retrying cannot help. The result is dropped from the outbox and logged.
        case refused(String)
    }

    let service: any ActivityService
    let outbox: ResultOutbox
    let clock: any Clock<Duration>
    let jitter: any JitterSource
    let backoff: RetryPolicy
    let logger: Logger
    let metrics: WorkerMetrics

    public init(
        service: any ActivityService, outbox: ResultOutbox, clock: any Clock<Duration> = ContinuousClock(),
        jitter: any JitterSource = SystemJitter(),
        backoff: RetryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(1), maxDelay: .seconds(60)),
        logger: Logger, metrics: WorkerMetrics = WorkerMetrics()
    ) {
        self.service = service
        self.outbox = outbox
        self.clock = clock
        self.jitter = jitter
        self.backoff = backoff
        self.logger = logger
        self.metrics = metrics
    }

    /// Sends `result`, which must already be in the outbox. Throws only `CancellationError`.
    /// `activity` names the activity in the retry metric.
    public func deliver(_ result: TaskResult, token: TaskToken, activity: String? = nil) async throws -> Outcome {
        metrics.deliveryStarted()
        defer { metrics.deliveryEnded() }
        let retried = activity.map { metrics.activity($0) }
        var result = result
        var retry = 0
        // An attempt that failed after the request may have reached the service (a dropped
        // connection, a 5xx): the service may have taken that result without our hearing it.
        var mayHaveArrived = false
        while true {
            do {
                switch result {
                case .success(let output): try await service.sendTaskSuccess(token: token, output: output)
                case .failure(let error, let cause): try await service.sendTaskFailure(token: token, error: error, cause: cause)
                }
                forget(token)
                return .delivered
            } catch let error as StepFunctionsError {
                switch error.kind {
                case .taskGone where mayHaveArrived || error.afterAmbiguousAttempt:
                    // Most likely the earlier attempt was taken and only its answer was lost.
                    logger.info("Result most likely delivered by an earlier attempt whose answer was lost", metadata: [
                        "error": "\(error.code)", "retry": "\(retry)",
                    ])
                    forget(token)
                    return .delivered
                case .taskGone:
                    logger.info("Task is gone; result not delivered", metadata: ["error": "\(error.code)"])
                    forget(token)
                    return .taskGone
                case .invalidRequest where Self.isRefusalOfTheResult(error):
                    if case .success = result {
                        // The service will not take this output: tell the state machine why instead.
                        result = .failing(HandlerErrorName.invalidOutput, "the service refused the output: \(error)")
                        logger.warning("Service refused the output; sending a failure", metadata: ["error": "\(error)"])
                        continue
                    }
                    logger.error("Service refused the failure report; dropping it", metadata: ["error": "\(error)"])
                    forget(token)
                    return .refused(error.description)
                default:
                    if error.kind == .transient { mayHaveArrived = true }
                    let delay = backoff.delay(beforeRetry: retry, unitRandom: jitter.next())
                    logger.warning("Could not deliver result; retrying", metadata: [
                        "error": "\(error)", "retry": "\(retry + 1)",
                    ])
                    retry += 1
                    retried?.resultRetried()
                    try await clock.sleep(for: delay)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The credential provider failed; the next attempt may find credentials again.
                let delay = backoff.delay(beforeRetry: retry, unitRandom: jitter.next())
                logger.warning("Could not deliver result; retrying", metadata: ["error": "\(error)", "retry": "\(retry + 1)"])
                retry += 1
                retried?.resultRetried()
                try await clock.sleep(for: delay)
            }
        }
    }

    /// Errors that say the result itself is unacceptable, as opposed to the caller (auth) or the
    /// activity being wrong, which a later attempt with fixed credentials can get past.
    static func isRefusalOfTheResult(_ error: StepFunctionsError) -> Bool {
        ["ValidationException", "InvalidOutput", "SerializationException"].contains(error.code)
    }

    private func forget(_ token: TaskToken) {
        do {
            try outbox.acknowledge(token: token)
        } catch {
            logger.error("Could not remove a delivered result from the outbox", metadata: ["error": "\(error)"])
        }
    }
}
