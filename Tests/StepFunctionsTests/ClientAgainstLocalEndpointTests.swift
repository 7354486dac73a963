import Foundation
import StepFunctions
import StepFunctionsLocal
import Testing

/// The client against the real local endpoint over loopback HTTP, signatures checked: the
/// conversation a worker has, and the faults it must survive.
@Suite(.timeLimit(.minutes(1)))
struct ClientAgainstLocalEndpointTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDINTEGRATION", secretAccessKey: "integration-secret")

    /// A local session with one activity, a client with no retry delay, and a clock that records them.
    struct Harness {
        var client: StepFunctionsClient
        var admin: LocalAdminClient
        var arn: String
        var clock: RecordingClock
    }

    func withHarness(
        clientCredentials: AWSCredentials = credentials, pollDuration: Duration = .seconds(1),
        _ body: (Harness) async throws -> Void
    ) async throws {
        let clock = RecordingClock()
        try await LocalSession.with(
            .init(credentials: Self.credentials, pollDuration: pollDuration), clientCredentials: clientCredentials,
            connectTimeout: .seconds(2),
            configureClient: { $0.requestTimeout = .seconds(10); $0.pollTimeout = .seconds(10) },
            clock: clock, jitter: FixedJitter([0])
        ) { session in
            let arn = try await session.admin.createActivity(name: "integration")
            try await body(Harness(client: session.client, admin: session.admin, arn: arn, clock: clock))
        }
    }

    @Test func aTaskIsReceivedHeartbeatenAndCompleted() async throws {
        try await withHarness { h in
            let id = try await h.admin.submitTask(activityArn: h.arn, input: #"{"n":1}"#, heartbeatSeconds: 30)
            let task = try #require(try await h.client.getActivityTask(activityArn: h.arn, workerName: "it-worker"))
            #expect(task.input == #"{"n":1}"#)
            #expect(task.token.rawValue.count > 200)
            try await h.client.sendTaskHeartbeat(token: task.token)
            try await h.client.sendTaskHeartbeat(token: task.token)
            try await h.client.sendTaskSuccess(token: task.token, output: #"{"done":true}"#)
            let state = try await h.admin.task(id)
            #expect(state.status == "SUCCEEDED")
            #expect(state.output == #"{"done":true}"#)
            #expect(state.heartbeatCount == 2)
            #expect(state.workerName == "it-worker")
        }
    }

    @Test func aFailureCarriesErrorAndCause() async throws {
        try await withHarness { h in
            let id = try await h.admin.submitTask(activityArn: h.arn, input: "{}")
            let task = try #require(try await h.client.getActivityTask(activityArn: h.arn, workerName: nil))
            try await h.client.sendTaskFailure(token: task.token, error: "Handler.Failed", cause: "exit status 3")
            let state = try await h.admin.task(id)
            #expect(state.status == "FAILED")
            #expect(state.error == "Handler.Failed")
            #expect(state.cause == "exit status 3")
        }
    }

    @Test func aPollWithNoTaskEndsEmptyAfterThePollTime() async throws {
        try await withHarness(pollDuration: .milliseconds(300)) { h in
            let started = ContinuousClock.now
            let task = try await h.client.getActivityTask(activityArn: h.arn, workerName: nil)
            #expect(task == nil)
            #expect(ContinuousClock.now - started >= .milliseconds(250))
        }
    }

    @Test func aLongPollWakesWhenATaskArrives() async throws {
        try await withHarness(pollDuration: .seconds(20)) { h in
            async let polled = h.client.getActivityTask(activityArn: h.arn, workerName: nil)
            try await Task.sleep(for: .milliseconds(200))
            _ = try await h.admin.submitTask(activityArn: h.arn, input: #"{"late":true}"#)
            let task = try await polled
            #expect(task?.input == #"{"late":true}"#)
        }
    }

    @Test(arguments: [
        FaultRule(fault: .throttle, count: 2, operation: "SendTaskSuccess"),
        FaultRule(fault: .serverError, count: 2, operation: "SendTaskSuccess"),
        FaultRule(fault: .serverError, count: 1, operation: "SendTaskSuccess", status: 503),
        FaultRule(fault: .dropConnection, count: 2, operation: "SendTaskSuccess"),
    ])
    func aResultGetsThroughFaults(_ fault: FaultRule) async throws {
        try await withHarness { h in
            let id = try await h.admin.submitTask(activityArn: h.arn, input: "{}")
            let task = try #require(try await h.client.getActivityTask(activityArn: h.arn, workerName: nil))
            try await h.admin.injectFault(fault)
            try await h.client.sendTaskSuccess(token: task.token, output: "1")
            #expect(try await h.admin.task(id).status == "SUCCEEDED")
            #expect(h.clock.sleeps.count == fault.count ?? 1)
        }
    }

    @Test func aMissedHeartbeatTurnsTheTaskIntoTaskTimedOut() async throws {
        try await withHarness { h in
            let id = try await h.admin.submitTask(activityArn: h.arn, input: "{}", heartbeatSeconds: 1)
            let task = try #require(try await h.client.getActivityTask(activityArn: h.arn, workerName: nil))
            try await Task.sleep(for: .milliseconds(1500))
            let error = try await #require(throws: StepFunctionsError.self) {
                try await h.client.sendTaskHeartbeat(token: task.token)
            }
            #expect(error.kind == .taskGone)
            #expect(error.code == "TaskTimedOut")
            #expect(try await h.admin.task(id).status == "TIMED_OUT")
        }
    }

    @Test func aWrongSecretIsRefusedAsAnInvalidSignature() async throws {
        var wrong = Self.credentials
        wrong.secretAccessKey = "not-the-secret"
        try await withHarness(clientCredentials: wrong) { h in
            let error = try await #require(throws: StepFunctionsError.self) {
                _ = try await h.client.getActivityTask(activityArn: h.arn, workerName: nil)
            }
            #expect(error.code == "InvalidSignatureException")
            #expect(error.kind == .invalidRequest)
        }
    }

    @Test func activitiesAreManagedThroughTheClient() async throws {
        try await withHarness { h in
            let arn = try await h.client.createActivity(name: "managed")
            #expect(arn.hasSuffix(":activity:managed"))
            #expect(try await h.client.describeActivity(arn: arn).name == "managed")
            #expect(try await h.client.listActivities().map(\.name).sorted() == ["integration", "managed"])
            try await h.client.deleteActivity(arn: arn)
            #expect(try await h.client.listActivities().map(\.name) == ["integration"])
        }
    }
}
