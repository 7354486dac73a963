import Foundation
import NIOHTTP1
import StepFunctions
import StepFunctionsLocal
import Testing

/// SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, their limits, and task expiry in real time.
@Suite(.timeLimit(.minutes(1))) struct TaskOperationsTests {
    /// Creates an activity, submits a task and polls it: the task's id and token.
    func startedTask(
        _ client: TestClient, heartbeatSeconds: Double? = nil, timeoutSeconds: Double? = nil
    ) async throws -> (id: String, token: String) {
        let arn = try await client.createActivity("work")
        let id = try await client.submit(arn, heartbeatSeconds: heartbeatSeconds, timeoutSeconds: timeoutSeconds)
        let poll = try await client.call("GetActivityTask", ["activityArn": arn, "workerName": "w"])
        return (id, try #require(poll["taskToken"] as? String))
    }

    @Test func successIsRecordedAndTheTokenIsThenDead() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client)
            let sent = try await client.call("SendTaskSuccess", ["taskToken": token, "output": "{\"ok\":true}"])
            #expect(sent.status == 200)
            #expect(sent.text == "{}")
            let task = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(task["status"] as? String == "SUCCEEDED")
            #expect(task["output"] as? String == "{\"ok\":true}")
            #expect(task["finishedAt"] is String)
            for (operation, body) in [
                ("SendTaskSuccess", ["taskToken": token, "output": "{}"]),
                ("SendTaskFailure", ["taskToken": token]),
                ("SendTaskHeartbeat", ["taskToken": token]),
            ] {
                let again = try await client.call(operation, body)
                #expect(again.status == 400)
                #expect(again.errorType == "TaskTimedOut", "\(operation)")
            }
            // The admin API counts result calls: both late ones were refused and contradict the success.
            let counted = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(counted["resultAttempts"] as? Int == 3)
            #expect(counted["rejectedResults"] as? Int == 2)
            #expect(counted["conflictingResults"] as? Int == 2)
        }
    }

    @Test func failureIsRecorded() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client)
            let sent = try await client.call("SendTaskFailure", ["taskToken": token, "error": "Handler.Failed", "cause": "exit 3"])
            #expect(sent.status == 200)
            let task = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(task["status"] as? String == "FAILED")
            #expect(task["error"] as? String == "Handler.Failed")
            #expect(task["cause"] as? String == "exit 3")
        }
    }

    @Test func heartbeatsAreCounted() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client, heartbeatSeconds: 30)
            for _ in 0..<3 { #expect(try await client.call("SendTaskHeartbeat", ["taskToken": token]).status == 200) }
            let task = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(task["heartbeatCount"] as? Int == 3)
            #expect(task["lastHeartbeatAt"] is String)
        }
    }

    @Test func unknownTokensAreInvalid() async throws {
        try await withLocalEndpoint { _, client async throws in
            _ = try await startedTask(client)
            let forged = String(repeating: "A", count: 704)
            let reply = try await client.call("SendTaskHeartbeat", ["taskToken": forged])
            #expect(reply.status == 400)
            #expect(reply.errorType == "InvalidToken")
            #expect(try await client.call("SendTaskSuccess", ["taskToken": "x", "output": "{}"]).errorType == "InvalidToken")
            #expect(try await client.call("SendTaskHeartbeat", ["taskToken": ""]).errorType == "ValidationException")
            let huge = String(repeating: "A", count: 2049)
            #expect(try await client.call("SendTaskHeartbeat", ["taskToken": huge]).errorType == "ValidationException")
        }
    }

    @Test func limitsOfWhatAWorkerSends() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client)
            let bigOutput = "\"" + String(repeating: "x", count: TaskLimits.maxPayloadBytes) + "\""
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token, "output": bigOutput]).errorType == "ValidationException")
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token, "output": "not json"]).errorType == "InvalidOutput")
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token]).errorType == "ValidationException")
            let longError = String(repeating: "e", count: 257)
            #expect(try await client.call("SendTaskFailure", ["taskToken": token, "error": longError]).errorType == "ValidationException")
            let longCause = String(repeating: "c", count: 32_769)
            #expect(try await client.call("SendTaskFailure", ["taskToken": token, "cause": longCause]).errorType == "ValidationException")
            // Exactly at the limits is fine.
            let cause = String(repeating: "c", count: 32_768)
            let error = String(repeating: "e", count: 256)
            #expect(try await client.call("SendTaskFailure", ["taskToken": token, "error": error, "cause": cause]).status == 200)
            #expect(try await client.admin(.GET, "/_local/tasks/\(id)")["status"] as? String == "FAILED")
        }
    }

    @Test func aMissedHeartbeatTimesTheTaskOut() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client, heartbeatSeconds: 1)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await client.call("SendTaskHeartbeat", ["taskToken": token]).status == 200)
            // Read only through the admin API: the expiry happens without any call on the token.
            let finished = try await client.admin(.GET, "/_local/tasks/\(id)?waitSeconds=5")
            #expect(finished["status"] as? String == "TIMED_OUT")
            #expect(finished["error"] as? String == "States.HeartbeatTimeout")
            let late = try await client.call("SendTaskHeartbeat", ["taskToken": token])
            #expect(late.status == 400)
            #expect(late.errorType == "TaskTimedOut")
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token, "output": "{}"]).errorType == "TaskTimedOut")
        }
    }

    @Test func heartbeatsKeepATaskAlivePastItsHeartbeatTime() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client, heartbeatSeconds: 1)
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await client.call("SendTaskHeartbeat", ["taskToken": token]).status == 200)
            }
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token, "output": "1"]).status == 200)
            #expect(try await client.admin(.GET, "/_local/tasks/\(id)")["status"] as? String == "SUCCEEDED")
        }
    }

    @Test func theTaskTimeoutEndsATaskDespiteHeartbeats() async throws {
        try await withLocalEndpoint { _, client async throws in
            let (id, token) = try await startedTask(client, heartbeatSeconds: 10, timeoutSeconds: 1.5)
            let clock = ContinuousClock()
            let start = clock.now
            while clock.now - start < .seconds(3) {
                let reply = try await client.call("SendTaskHeartbeat", ["taskToken": token])
                if reply.status != 200 {
                    #expect(reply.errorType == "TaskTimedOut")
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(clock.now - start < .seconds(3))
            let task = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(task["status"] as? String == "TIMED_OUT")
            #expect(task["error"] as? String == "States.Timeout")
        }
    }

    @Test func aTaskNobodyPollsTimesOutWhileScheduled() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("slow")
            let id = try await client.submit(arn, timeoutSeconds: 0.5)
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await client.admin(.GET, "/_local/tasks/\(id)")["status"] as? String == "TIMED_OUT")
            #expect(try await client.call("GetActivityTask", ["activityArn": arn]).text == "{}")
        }
    }
}
