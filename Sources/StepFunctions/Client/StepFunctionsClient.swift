import FoundationEssentials
public import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1

/// A Step Functions client over the JSON 1.0 protocol: SigV4-signed `POST /` with
/// `X-Amz-Target: AWSStepFunctions.<Operation>`, keep-alive connections from a shared
/// `HTTP1Client`, classified errors, and retries with capped exponential backoff and full jitter.
public final class StepFunctionsClient: ActivityService {
    public struct Configuration: Sendable {
        public var endpoint: Endpoint
        /// The client-side limit on a `GetActivityTask` long poll (the service holds one for 60 s).
        public var pollTimeout: Duration = .seconds(70)
        /// The limit on every other call.
        public var requestTimeout: Duration = .seconds(20)
        /// Retries of every call but `GetActivityTask` (whose caller loops on its own).
        public var retryPolicy: RetryPolicy = .standard
        public var pollRetryPolicy: RetryPolicy = .none
        public var userAgent: String = "stepworker"
        /// Responses larger than this are refused (a task input is at most 256 KiB of JSON,
        /// which escaping inside a JSON string can grow up to six times).
        public var maxResponseBytes: Int = 8 << 20
        /// Paces calls of the worker's APIs to what the account's quota allows (nil: no pacing).
        public var rateLimiter: AdaptiveRateLimiter?

        public init(endpoint: Endpoint) {
            self.endpoint = endpoint
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTP1Client
    private let origin: HTTP1Origin
    private let credentials: any CredentialProvider
    private let clock: any Clock<Duration>
    private let jitter: any JitterSource
    private let logger: Logger
    private let signer: SigV4Signer
    private let elapsed: ElapsedTime

    /// `httpClient` stays the caller's to shut down; `makeHTTPClient` makes a suitable one.
    public init(
        configuration: Configuration,
        credentials: any CredentialProvider,
        httpClient: HTTP1Client,
        clock: any Clock<Duration> = ContinuousClock(),
        jitter: any JitterSource = SystemJitter(),
        logger: Logger = Logger(label: "stepworker.stepfunctions")
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.origin = HTTP1Origin(configuration.endpoint)
        self.credentials = credentials
        self.clock = clock
        self.elapsed = ElapsedTime(clock)
        self.jitter = jitter
        self.logger = logger
        self.signer = SigV4Signer(service: "states", region: configuration.endpoint.signingRegion)
    }

    /// An `HTTP1Client` for a worker: it keeps enough idle connections per host for every open
    /// long poll plus the calls made while they are open. A refused connection fails the call at
    /// once, as transient; the retry policy decides what follows.
    public static func makeHTTPClient(
        maxConnectionsPerHost: Int = 64, connectTimeout: Duration = .seconds(10), caBundlePath: String? = nil
    ) -> HTTP1Client {
        var configuration = HTTP1Client.Configuration()
        configuration.connectTimeout = connectTimeout
        configuration.maxIdleConnectionsPerOrigin = maxConnectionsPerHost
        configuration.caBundlePath = caBundlePath
        return HTTP1Client(configuration: configuration)
    }

    // MARK: Activity operations

    public func getActivityTask(activityArn: String, workerName: String?) async throws -> ActivityTask? {
        let name = workerName.map { TaskLimits.truncating($0, toCharacters: TaskLimits.maxWorkerNameCharacters) }
        let output = try await call(
            "GetActivityTask", Wire.GetActivityTaskInput(activityArn: activityArn, workerName: name),
            returning: Wire.GetActivityTaskOutput.self, timeout: configuration.pollTimeout, retry: configuration.pollRetryPolicy)
        let receivedAt = ContinuousClock.now
        guard let token = output.taskToken, !token.isEmpty else { return nil }
        return ActivityTask(token: TaskToken(token), input: output.input ?? "{}", receivedAt: receivedAt)
    }

    /// Sends a handler's output, JSON text of at most 262,144 UTF-8 bytes (checked before sending:
    /// JSON cannot be cut, so a larger output is the caller's to turn into a failure).
    public func sendTaskSuccess(token: TaskToken, output: String) async throws {
        let size = output.utf8.count
        guard size <= TaskLimits.maxPayloadBytes else {
            throw StepFunctionsError(
                kind: .invalidRequest, code: "ValidationException",
                message: "output is \(size) bytes; the limit is \(TaskLimits.maxPayloadBytes)", operation: "SendTaskSuccess")
        }
        _ = try await call("SendTaskSuccess", Wire.SendTaskSuccessInput(taskToken: token.rawValue, output: output), returning: Wire.Empty.self)
    }

    /// Sends a failure; `error` is cut to 256 and `cause` to 32,768 characters on a character boundary.
    public func sendTaskFailure(token: TaskToken, error: String?, cause: String?) async throws {
        let input = Wire.SendTaskFailureInput(
            taskToken: token.rawValue,
            error: error.map { TaskLimits.truncating($0, toCharacters: TaskLimits.maxErrorCharacters) },
            cause: cause.map { TaskLimits.truncating($0, toCharacters: TaskLimits.maxCauseCharacters) })
        _ = try await call("SendTaskFailure", input, returning: Wire.Empty.self)
    }

    public func sendTaskHeartbeat(token: TaskToken) async throws {
        try await sendTaskHeartbeat(token: token, within: nil)
    }

    /// A heartbeat that should reach the service within `timeLeft`: it waits for the rate limiter
    /// ahead of heartbeats with later deadlines, and a retry is never put off past the deadline.
    public func sendTaskHeartbeat(token: TaskToken, within timeLeft: Duration?) async throws {
        _ = try await call(
            "SendTaskHeartbeat", Wire.TaskTokenInput(taskToken: token.rawValue), returning: Wire.Empty.self,
            within: timeLeft)
    }

    // MARK: Activity management, for tooling and tests

    /// Creates the activity (or finds it: the call is idempotent by name) and returns its ARN.
    public func createActivity(name: String) async throws -> String {
        try await call("CreateActivity", Wire.CreateActivityInput(name: name), returning: Wire.CreateActivityOutput.self).activityArn
    }

    public func describeActivity(arn: String) async throws -> ActivityDescription {
        let item = try await call("DescribeActivity", Wire.ActivityArnInput(activityArn: arn), returning: Wire.DescribeActivityOutput.self)
        return ActivityDescription(item)
    }

    /// Every activity of the account and region, following `nextToken`.
    public func listActivities() async throws -> [ActivityDescription] {
        var all: [ActivityDescription] = []
        var nextToken: String?
        repeat {
            let page = try await call(
                "ListActivities", Wire.ListActivitiesInput(maxResults: 1000, nextToken: nextToken), returning: Wire.ListActivitiesOutput.self)
            all += page.activities.map(ActivityDescription.init)
            nextToken = page.nextToken.flatMap { $0.isEmpty ? nil : $0 }
        } while nextToken != nil
        return all
    }

    public func deleteActivity(arn: String) async throws {
        _ = try await call("DeleteActivity", Wire.ActivityArnInput(activityArn: arn), returning: Wire.Empty.self)
    }

    // MARK: Transport

    /// Calls `operation`, retrying as `retry` allows; throws `StepFunctionsError`,
    /// `CancellationError`, or the credential provider's error.
    func call<Input: Encodable, Output: Decodable>(
        _ operation: String, _ input: Input, returning: Output.Type,
        timeout: Duration? = nil, retry: RetryPolicy? = nil, within timeLeft: Duration? = nil
    ) async throws -> Output {
        let body = try WireRequestBody.encode(input)
        let retry = retry ?? configuration.retryPolicy
        let limiter = configuration.rateLimiter
        let api = RateLimitedAPI(rawValue: operation)
        let priority = timeLeft.map { CallPriority.heartbeat(deadline: (limiter?.now ?? .zero) + $0) }
        let deadline = timeLeft.map { elapsed.now() + $0 }
        var attempt = 1
        var ambiguous = false
        while true {
            do {
                var sentAt: Duration?
                if let limiter, let api { sentAt = try await limiter.beforeSend(api, priority: priority) }
                let response: ByteBuffer
                do {
                    response = try await send(operation, body: body, timeout: timeout ?? configuration.requestTimeout)
                } catch let error as StepFunctionsError where error.statusCode != nil {
                    if let limiter, let api { limiter.afterResponse(api, throttled: error.kind == .throttled, sentAt: sentAt) }
                    throw error
                }
                if let limiter, let api { limiter.afterResponse(api, throttled: false, sentAt: sentAt) }
                return try decode(Output.self, from: response, operation: operation)
            } catch var error as StepFunctionsError {
                error.afterAmbiguousAttempt = ambiguous
                guard retry.shouldRetry(after: error, attempt: attempt) else { throw error }
                if error.kind == .transient { ambiguous = true }
                var delay = retry.delay(beforeRetry: attempt - 1, unitRandom: jitter.next())
                if let deadline {
                    // Retried before the deadline, not after: at most half the time that is left.
                    let left = deadline - elapsed.now()
                    if left > .zero { delay = min(delay, left / 2) }
                }
                logger.debug("Retrying call", metadata: [
                    "operation": "\(operation)", "attempt": "\(attempt)", "error": "\(error.code)",
                    "delay_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ])
                try await clock.sleep(for: delay)
                attempt += 1
            }
        }
    }

    private func send(_ operation: String, body: [UInt8], timeout: Duration) async throws -> ByteBuffer {
        let endpoint = configuration.endpoint
        var signing = SigningRequest(
            method: "POST", path: endpoint.path,
            headers: [
                .init(name: "Host", value: endpoint.hostHeader),
                .init(name: "Content-Type", value: Wire.contentType),
                .init(name: "X-Amz-Target", value: "\(Wire.targetPrefix).\(operation)"),
            ],
            body: body)
        signer.sign(&signing, credentials: try await credentials.credentials(), date: Date())

        var headers = HTTPHeaders()
        headers.reserveCapacity(signing.headers.count + 1)
        for header in signing.headers { headers.add(name: header.name, value: header.value) }
        headers.add(name: "User-Agent", value: configuration.userAgent)
        let request = HTTP1Request(
            method: .POST, origin: origin, target: endpoint.path, headers: headers, body: ByteBuffer(bytes: body))

        let response: HTTP1Response
        do {
            response = try await httpClient.execute(request, timeout: timeout, maxResponseBytes: configuration.maxResponseBytes)
        } catch {
            throw Self.transportError(error, operation: operation)
        }
        guard response.status == .ok else {
            throw Self.serviceError(status: response.status, headers: response.headers, body: response.body, operation: operation)
        }
        return response.body
    }

    private func decode<Output: Decodable>(_ type: Output.Type, from body: ByteBuffer, operation: String) throws -> Output {
        // The answers of the hot calls (a poll's `{"input":...,"taskToken":...}`, `{}` to every
        // result and heartbeat) are read by hand when they are the flat objects of strings they
        // always are; decoding them cost a few percent of the daemon's CPU per task. Anything
        // else goes the long way.
        if let readable = Output.self as? any WireJSONReadable.Type,
            let members = body.withUnsafeReadableBytes({ WireJSONObject.read($0) }), let output = readable.init(members: members)
        {
            return output as! Output
        }
        do {
            return try JSONDecoder().decode(Output.self, from: body.readableBytes == 0 ? ByteBuffer(string: "{}") : body)
        } catch {
            // A 200 with a body we cannot read is a fault on the way (a proxy, a cut connection).
            throw StepFunctionsError(
                kind: .transient, code: "MalformedResponse", message: "could not decode the answer: \(error)",
                statusCode: 200, operation: operation)
        }
    }

    static func serviceError(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, operation: String) -> StepFunctionsError {
        let parsed = try? JSONDecoder().decode(Wire.ErrorBody.self, from: body)
        let code = StepFunctionsError.errorName(type: parsed?.type, header: headers.first(name: "X-Amzn-ErrorType"))
            ?? "HTTP\(status.code)"
        return StepFunctionsError(
            kind: StepFunctionsError.classify(code: code, statusCode: Int(status.code)),
            code: code, message: parsed?.message ?? "", statusCode: Int(status.code), operation: operation)
    }

    /// Everything that goes wrong before an answer arrives is transient, except cancellation.
    static func transportError(_ error: any Error, operation: String) -> any Error {
        if error is CancellationError { return error }
        if let error = error as? HTTP1Error {
            switch error.kind {
            case .timeout, .connectTimeout:
                return StepFunctionsError(kind: .transient, code: "Timeout", message: "\(error)", operation: operation)
            case .connectionClosed:
                return StepFunctionsError(kind: .transient, code: "ConnectionClosed", message: "\(error)", operation: operation)
            default: break
            }
        }
        return StepFunctionsError(kind: .transient, code: "ConnectionFailed", message: "\(error)", operation: operation)
    }
}

extension ActivityDescription {
    init(_ item: Wire.ActivityListItem) {
        self.init(arn: item.activityArn, name: item.name, creationDate: Date(timeIntervalSince1970: item.creationDate))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
