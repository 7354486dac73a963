public import StepFunctions
import Synchronization

/// An `ActivityService` a test scripts: tasks queued for polls, errors for the next calls of an
/// operation, and every call published as an `Event` so a test waits for what it expects instead
/// of sleeping.
///
/// A poll with nothing queued for its activity waits (a long poll) until something is queued for
/// it, its task is cancelled (`CancellationError`), or `endPolls()`. After `endPolls()` an empty
/// poll returns nil at once, so end polls only once the pool drains (else its pollers spin).
public final class ScriptedActivityService: ActivityService {
    /// The four calls a worker makes.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case getActivityTask = "GetActivityTask"
        case sendTaskSuccess = "SendTaskSuccess"
        case sendTaskFailure = "SendTaskFailure"
        case sendTaskHeartbeat = "SendTaskHeartbeat"
    }

    /// One call, published when it arrives (before its answer, scripted errors included).
    public enum Event: Sendable, Equatable {
        case polled(activityArn: String)
        case heartbeat(TaskToken)
        case succeeded(TaskToken, output: String)
        case failed(TaskToken, error: String?, cause: String?)
    }

    private struct State {
        var calls: [Event] = []
        /// Per operation, the errors the next calls throw, in order.
        var answers: [Operation: [any Error]] = [:]
        /// Per activity ARN, what the next polls get, in order.
        var queued: [String: [Result<ActivityTask?, any Error>]] = [:]
        var waitingPolls: [UInt64: (arn: String, continuation: CheckedContinuation<ActivityTask?, any Error>)] = [:]
        var nextID: UInt64 = 0
        var pollsEnded = false
    }

    private let state = Mutex(State())
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    public init() {
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
    }

    deinit {
        continuation.finish()
    }

    /// Every call so far, in order.
    public var calls: [Event] { state.withLock { $0.calls } }

    /// Polls waiting now for something to be queued.
    public var waitingPolls: Int { state.withLock { $0.waitingPolls.count } }

    /// The next poll of `activityArn` gets `task` (nil: an empty poll, as when a long poll ends).
    public func enqueue(_ task: ActivityTask?, for activityArn: String) {
        deliverToPoll(.success(task), for: activityArn)
    }

    /// The next poll of `activityArn` (after what is queued before) throws `error`.
    public func enqueue(failure error: any Error, for activityArn: String) {
        deliverToPoll(.failure(error), for: activityArn)
    }

    /// The next `times` calls of `operation` throw `error`, before anything queued for polls.
    public func answer(_ operation: Operation, with error: any Error, times: Int = 1) {
        state.withLock { $0.answers[operation, default: []] += Array(repeating: error, count: times) }
    }

    /// Every waiting poll returns nil, and so does every later poll with nothing queued.
    public func endPolls() {
        let waiting = state.withLock { state in
            state.pollsEnded = true
            defer { state.waitingPolls.removeAll() }
            return state.waitingPolls.values.map(\.continuation)
        }
        for poll in waiting { poll.resume(returning: nil) }
    }

    /// An error as the client builds it from an error answer: classified by code and status.
    public static func error(
        _ code: String, for operation: Operation, message: String = "scripted", statusCode: Int = 400
    ) -> StepFunctionsError {
        StepFunctionsError(
            kind: StepFunctionsError.classify(code: code, statusCode: statusCode), code: code, message: message,
            statusCode: statusCode, operation: operation.rawValue)
    }

    // MARK: ActivityService

    public func getActivityTask(activityArn: String, workerName: String?) async throws -> ActivityTask? {
        try record(.polled(activityArn: activityArn), .getActivityTask)
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let now: Result<ActivityTask?, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if var queue = state.queued[activityArn], !queue.isEmpty {
                        let first = queue.removeFirst()
                        state.queued[activityArn] = queue
                        return first
                    }
                    if state.pollsEnded { return .success(nil) }
                    state.waitingPolls[id] = (activityArn, continuation)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiting = state.withLock { $0.waitingPolls.removeValue(forKey: id) }
            waiting?.continuation.resume(throwing: CancellationError())
        }
    }

    public func sendTaskSuccess(token: TaskToken, output: String) async throws {
        try record(.succeeded(token, output: output), .sendTaskSuccess)
    }

    public func sendTaskFailure(token: TaskToken, error: String?, cause: String?) async throws {
        try record(.failed(token, error: error, cause: cause), .sendTaskFailure)
    }

    public func sendTaskHeartbeat(token: TaskToken) async throws {
        try record(.heartbeat(token), .sendTaskHeartbeat)
    }

    /// Records and publishes a call; throws its scripted error, if one is due.
    private func record(_ event: Event, _ operation: Operation) throws {
        let scripted: (any Error)? = state.withLock { state in
            state.calls.append(event)
            continuation.yield(event)
            guard var errors = state.answers[operation], !errors.isEmpty else { return nil }
            let first = errors.removeFirst()
            state.answers[operation] = errors
            return first
        }
        if let scripted { throw scripted }
    }

    private func deliverToPoll(_ answer: Result<ActivityTask?, any Error>, for activityArn: String) {
        let waiting: CheckedContinuation<ActivityTask?, any Error>? = state.withLock { state in
            // The longest-waiting poll of this activity gets it.
            if let id = state.waitingPolls.filter({ $0.value.arn == activityArn }).keys.min() {
                return state.waitingPolls.removeValue(forKey: id)?.continuation
            }
            state.queued[activityArn, default: []].append(answer)
            return nil
        }
        waiting?.resume(with: answer)
    }
}
