import Foundation
import NIOHTTP1
import StepFunctions
import StepFunctionsLocal
import Testing

/// The unsigned admin API under /_local/.
@Suite(.timeLimit(.minutes(1))) struct AdminAPITests {
    @Test func aSubmittedTaskIsShownWithEveryField() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            let submitted = try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, "heartbeatSeconds": 5, "timeoutSeconds": 60])
            #expect(submitted.status == 200)
            let id = try #require(submitted["id"] as? String)
            let task = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(task.status == 200)
            #expect(task["id"] as? String == id)
            #expect(task["activityArn"] as? String == arn)
            #expect(task["status"] as? String == "SCHEDULED")
            #expect(task["input"] as? String == "{}")
            #expect(task["heartbeatSeconds"] as? Double == 5)
            #expect(task["heartbeatCount"] as? Int == 0)
            let scheduledAt = try #require(task["scheduledAt"] as? String)
            #expect(scheduledAt.hasSuffix("Z"))
            #expect(try Date(scheduledAt, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)).timeIntervalSinceNow > -60)
            for key in ["output", "error", "cause", "workerName", "startedAt", "finishedAt", "lastHeartbeatAt"] {
                #expect(task.json.keys.contains(key), "\(key) present")
                #expect(task[key] is NSNull, "\(key) null")
            }
        }
    }

    /// Inputs that once crashed the endpoint: a bare `=` in the query, deadlines too far away
    /// to compute with, and latencies that overflow when added.
    @Test func hostileInputIsRefusedNotACrash() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            #expect(try await client.admin(.GET, "/_local/stats?=").status == 200)
            #expect(try await client.admin(.GET, "/_local/tasks?=&=x").status == 200)
            for field in ["timeoutSeconds", "heartbeatSeconds"] {
                #expect(try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, field: 1e300]).status == 400)
                #expect(try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, field: 100_000_000]).status == 400)
            }
            let accepted = try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, "timeoutSeconds": 99_999_999])
            let id = try #require(accepted["id"] as? String)
            #expect(try await client.admin(.GET, "/_local/tasks/\(id)?waitSeconds=0.05").status == 200)
            #expect(try await client.admin(.POST, "/_local/faults", ["fault": "latency", "latencyMs": Int.max]).status == 400)
            #expect(try await client.admin(.POST, "/_local/faults", ["fault": "latency", "latencyMs": 600_000, "operation": "Nothing"]).status == 200)
            #expect(try await client.admin(.POST, "/_local/faults", ["fault": "latency", "latencyMs": 600_000, "operation": "Nothing"]).status == 200)
            #expect(try await client.admin(.GET, "/_local/stats").status == 200)
        }
    }

    @Test func submissionsAreValidated() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            let missing = "arn:aws:states:us-east-1:123456789012:activity:missing"
            let unknown = try await client.admin(.POST, "/_local/tasks", ["activityArn": missing])
            #expect(unknown.status == 400)
            #expect(unknown.errorType == "ActivityDoesNotExist")
            #expect(try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, "input": "{oops"]).status == 400)
            let big = "\"" + String(repeating: "x", count: 262_144) + "\""
            #expect(try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, "input": big]).status == 400)
            #expect(try await client.admin(.POST, "/_local/tasks", ["activityArn": arn, "heartbeatSeconds": 0]).status == 400)
            #expect(try await client.admin(.POST, "/_local/tasks", [:]).status == 400)
            #expect(try await client.admin(.GET, "/_local/tasks/t999").status == 404)
            #expect(try await client.admin(.GET, "/_local/nothing").status == 404)
        }
    }

    @Test func tasksAreListedAndFiltered() async throws {
        try await withLocalEndpoint { _, client async throws in
            let one = try await client.createActivity("one")
            let two = try await client.createActivity("two")
            let a = try await client.submit(one)
            let b = try await client.submit(two)
            let c = try await client.submit(two)
            _ = try await client.call("GetActivityTask", ["activityArn": two])
            func ids(_ query: String) async throws -> [String] {
                let reply = try await client.admin(.GET, "/_local/tasks\(query)")
                return (reply["tasks"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            }
            #expect(try await ids("") == [a, b, c])
            #expect(try await ids("?activityArn=\(two)") == [b, c])
            // Query values are percent-decoded (LocalAdminClient encodes an ARN's ':' as %3A).
            #expect(try await ids("?activityArn=\(PercentEncoding.encode(two))") == [b, c])
            #expect(try await ids("?activityArn=%zz") == [])
            #expect(try await ids("?status=STARTED") == [b])
            #expect(try await ids("?status=SCHEDULED&activityArn=\(two)") == [c])
            #expect(try await client.admin(.GET, "/_local/tasks?status=BOGUS").status == 400)
        }
    }

    @Test func waitSecondsReturnsWhenTheTaskFinishes() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            let id = try await client.submit(arn)
            let token = try #require(try await client.call("GetActivityTask", ["activityArn": arn])["taskToken"] as? String)
            let clock = ContinuousClock()
            let start = clock.now
            async let waited = client.admin(.GET, "/_local/tasks/\(id)?waitSeconds=10", timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(300))
            _ = try await client.call("SendTaskSuccess", ["taskToken": token, "output": "{}"])
            #expect(try await waited["status"] as? String == "SUCCEEDED")
            #expect(clock.now - start < .seconds(5))
            // An unfinished task is answered as it is when the wait runs out.
            let other = try await client.submit(arn)
            let elapsed = try await clock.measure {
                let reply = try await client.admin(.GET, "/_local/tasks/\(other)?waitSeconds=0.3")
                #expect(reply["status"] as? String == "SCHEDULED")
            }
            #expect(elapsed >= .milliseconds(250))
        }
    }

    @Test func activitiesCanBeCreatedThroughTheAdminAPI() async throws {
        try await withLocalEndpoint(LocalEndpointConfiguration(credentials: testCredentials)) { _, client async throws in
            let reply = try await client.admin(.POST, "/_local/activities", ["name": "unsigned"])
            #expect(reply["activityArn"] as? String == "arn:aws:states:us-east-1:123456789012:activity:unsigned")
        }
    }
}
