import FoundationEssentials
import NIOHTTP1
import Logging
import NIOCore
import StepFunctions

/// The Step Functions JSON 1.0 side: `POST /` with `X-Amz-Target: AWSStepFunctions.<Op>`.
/// Order of checks, as the service's front end: signature, operation name, injected faults, body.
struct ServiceAPI: Sendable {
    enum Operation: String, CaseIterable, Sendable {
        case createActivity = "CreateActivity"
        case describeActivity = "DescribeActivity"
        case listActivities = "ListActivities"
        case deleteActivity = "DeleteActivity"
        case getActivityTask = "GetActivityTask"
        case sendTaskSuccess = "SendTaskSuccess"
        case sendTaskFailure = "SendTaskFailure"
        case sendTaskHeartbeat = "SendTaskHeartbeat"
    }

    let endpoint: LocalEndpoint
    let verifier: SignatureVerifier?
    let logger: Logger

    func handle(_ request: HTTPServerRequest) async -> HTTPServerReply {
        let clock = ContinuousClock()
        let start = clock.now
        let target = request.headers.first(name: "X-Amz-Target")
        let operation = Self.operation(target: target)
        let reply = await reply(to: request, operation: operation, target: target)
        var metadata: Logger.Metadata = [
            "operation": "\(operation?.rawValue ?? "unknown")",
            "duration_ms": "\(Int((clock.now - start) / .milliseconds(1)))",
        ]
        switch reply {
        case .respond(let response): metadata["status"] = "\(response.status.code)"
        case .dropConnection: metadata["status"] = "dropped"
        }
        logger.debug("Served request", metadata: metadata)
        return reply
    }

    private func reply(to request: HTTPServerRequest, operation: Operation?, target: String?) async -> HTTPServerReply {
        if let verifier, let error = verifier.verify(request, now: endpoint.configuration.now()) {
            return .respond(error.response)
        }
        guard request.method == .POST, let operation else {
            return .respond(LocalServiceError.unknownOperation(target).response)
        }
        // The account's quota meters calls before anything else is done with them.
        guard await endpoint.admit(operation.rawValue) else {
            return .respond(LocalServiceError.throttling.response)
        }
        let faults = await endpoint.decideFaults(for: operation.rawValue)
        if faults.latencyMilliseconds > 0 {
            try? await Task.sleep(for: .milliseconds(faults.latencyMilliseconds))
        }
        switch faults.failure {
        case .throttle:
            return .respond(LocalServiceError.throttling.response)
        case .serverError(let status, afterOperation: false):
            return .respond(LocalServiceError.serverError(status: .init(statusCode: status)).response)
        case .dropConnection(afterOperation: false):
            return .dropConnection
        case .serverError, .dropConnection, nil:
            break
        }
        var response: HTTPServerResponse
        do throws(LocalServiceError) {
            response = try await perform(operation, body: request.body)
        } catch {
            response = error.response
        }
        switch faults.failure {
        case .serverError(let status, afterOperation: true):
            return .respond(LocalServiceError.serverError(status: .init(statusCode: status)).response)
        case .dropConnection(afterOperation: true):
            return .dropConnection
        default:
            response.headers.add(name: "x-amzn-RequestId", value: UUID().uuidString.lowercased())
            return .respond(response)
        }
    }

    private func perform(_ operation: Operation, body: ByteBuffer) async throws(LocalServiceError) -> HTTPServerResponse {
        switch operation {
        case .createActivity:
            let input = try Self.decode(Wire.CreateActivityInput.self, body)
            let activity = try await endpoint.createActivity(name: input.name)
            return Self.ok(Wire.CreateActivityOutput(activityArn: activity.arn, creationDate: activity.creationDate.timeIntervalSince1970))
        case .describeActivity:
            let input = try Self.decode(Wire.ActivityArnInput.self, body)
            return Self.ok(Self.item(try await endpoint.describeActivity(arn: input.activityArn)))
        case .listActivities:
            let input = try Self.decode(Wire.ListActivitiesInput.self, body)
            let page = try await endpoint.listActivities(maxResults: input.maxResults, nextToken: input.nextToken)
            return Self.ok(Wire.ListActivitiesOutput(activities: page.activities.map(Self.item), nextToken: page.nextToken))
        case .deleteActivity:
            let input = try Self.decode(Wire.ActivityArnInput.self, body)
            try await endpoint.deleteActivity(arn: input.activityArn)
            return Self.ok(Wire.Empty())
        case .getActivityTask:
            let input = try Self.decode(Wire.GetActivityTaskInput.self, body)
            let handout = try await endpoint.getActivityTask(activityArn: input.activityArn, workerName: input.workerName)
            return Self.ok(Wire.GetActivityTaskOutput(taskToken: handout?.token, input: handout?.input))
        case .sendTaskSuccess:
            let input = try Self.decode(Wire.SendTaskSuccessInput.self, body)
            try await endpoint.sendTaskSuccess(token: input.taskToken, output: input.output)
            return Self.ok(Wire.Empty())
        case .sendTaskFailure:
            let input = try Self.decode(Wire.SendTaskFailureInput.self, body)
            try await endpoint.sendTaskFailure(token: input.taskToken, error: input.error, cause: input.cause)
            return Self.ok(Wire.Empty())
        case .sendTaskHeartbeat:
            let input = try Self.decode(Wire.TaskTokenInput.self, body)
            try await endpoint.sendTaskHeartbeat(token: input.taskToken)
            return Self.ok(Wire.Empty())
        }
    }

    static func operation(target: String?) -> Operation? {
        guard let target, target.hasPrefix(Wire.targetPrefix + ".") else { return nil }
        return Operation(rawValue: String(target.dropFirst(Wire.targetPrefix.count + 1)))
    }

    /// Decodes a request body; an empty body is `{}`. Bad JSON or wrong types are a
    /// `SerializationException`, a missing member a `ValidationException`, as the service answers.
    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws(LocalServiceError) -> T {
        let data = body.readableBytes == 0 ? Data("{}".utf8) : Data(body.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw .missing(key.stringValue)
        } catch DecodingError.valueNotFound(_, let context) {
            throw .missing(context.codingPath.last?.stringValue ?? "")
        } catch DecodingError.typeMismatch(let expected, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .serialization("Wrong type at '\(field)': expected \(expected)")
        } catch {
            throw .serialization("The request body is not valid JSON")
        }
    }

    static func ok(_ value: some Encodable) -> HTTPServerResponse {
        .json(value, contentType: Wire.contentType)
    }

    static func item(_ activity: LocalActivity) -> Wire.ActivityListItem {
        Wire.ActivityListItem(
            activityArn: activity.arn, name: activity.name, creationDate: activity.creationDate.timeIntervalSince1970)
    }
}
