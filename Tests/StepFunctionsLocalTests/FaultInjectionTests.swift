import AsyncHTTPClient
import NIOHTTP1
import Foundation
import StepFunctionsLocal
import Testing

/// Faults injected through POST /_local/faults, as a client sees them.
@Suite(.timeLimit(.minutes(1))) struct FaultInjectionTests {
    @Test func throttlingIsAnsweredOnceThenNormally() async throws {
        try await withLocalEndpoint { _, client async throws in
            let added = try await client.admin(.POST, "/_local/faults", ["fault": "throttle"])
            #expect(added.status == 200)
            #expect(added["id"] is Int)
            let throttled = try await client.call("CreateActivity", ["name": "a"])
            #expect(throttled.status == 400)
            #expect(throttled.errorType == "ThrottlingException")
            #expect(try await client.call("CreateActivity", ["name": "a"]).status == 200)
        }
    }

    @Test func serverErrorsUseTheAskedStatus() async throws {
        try await withLocalEndpoint { _, client async throws in
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "serverError", "count": 2])
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "serverError", "status": 503])
            for _ in 0..<2 {
                let failed = try await client.call("ListActivities", [:])
                #expect(failed.status == 500)
                #expect(failed.errorType == "InternalFailure")
            }
            let unavailable = try await client.call("ListActivities", [:])
            #expect(unavailable.status == 503)
            #expect(unavailable.errorType == "ServiceUnavailable")
            #expect(try await client.call("ListActivities", [:]).status == 200)
        }
    }

    @Test func aDroppedConnectionIsAConnectionError() async throws {
        try await withLocalEndpoint { _, client async throws in
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "dropConnection", "operation": "CreateActivity"])
            await #expect(throws: HTTPClientError.self) { try await client.call("CreateActivity", ["name": "a"]) }
            #expect(try await client.call("CreateActivity", ["name": "a"]).status == 200)
        }
    }

    @Test func faultsCanTargetOneOperation() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            _ = try await client.submit(arn)
            let token = try #require(try await client.call("GetActivityTask", ["activityArn": arn])["taskToken"] as? String)
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "throttle", "count": 2, "operation": "SendTaskHeartbeat"])
            #expect(try await client.call("DescribeActivity", ["activityArn": arn]).status == 200)
            #expect(try await client.call("SendTaskHeartbeat", ["taskToken": token]).errorType == "ThrottlingException")
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token, "output": "{}"]).status == 200)
            #expect(try await client.call("SendTaskHeartbeat", ["taskToken": token]).errorType == "ThrottlingException")
            #expect(try await client.call("SendTaskHeartbeat", ["taskToken": token]).errorType == "TaskTimedOut")
        }
    }

    @Test func aLostAnswerStillTakesEffect() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            let id = try await client.submit(arn)
            let token = try #require(try await client.call("GetActivityTask", ["activityArn": arn])["taskToken"] as? String)
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "dropConnection", "afterOperation": true])
            await #expect(throws: HTTPClientError.self) {
                try await client.call("SendTaskSuccess", ["taskToken": token, "output": "{}"])
            }
            #expect(try await client.admin(.GET, "/_local/tasks/\(id)")["status"] as? String == "SUCCEEDED")
            #expect(try await client.call("SendTaskSuccess", ["taskToken": token, "output": "{}"]).errorType == "TaskTimedOut")
        }
    }

    @Test func latencyIsAddedUntilCleared() async throws {
        try await withLocalEndpoint { _, client async throws in
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "latency", "latencyMs": 1500])
            let listed = try await client.admin(.GET, "/_local/faults")
            #expect((listed["faults"] as? [Any])?.count == 1)
            let clock = ContinuousClock()
            for _ in 0..<2 {
                let slow = try await clock.measure {
                    let reply = try await client.call("ListActivities", [:])
                    #expect(reply.status == 200)
                }
                #expect(slow >= .milliseconds(1490))
            }
            #expect(try await client.admin(.DELETE, "/_local/faults").status == 200)
            let fast = try await clock.measure { _ = try await client.call("ListActivities", [:]) }
            let cleared = try await client.admin(.GET, "/_local/faults")
            #expect((cleared["faults"] as? [Any])?.isEmpty ?? true)
            // Under half the latency: a loopback call on a loaded 2-core machine can take a few hundred ms.
            #expect(fast < .milliseconds(750))
        }
    }

    @Test func badFaultsAreRefused() async throws {
        try await withLocalEndpoint { _, client async throws in
            #expect(try await client.admin(.POST, "/_local/faults", ["fault": "meteor"]).status == 400)
            #expect(try await client.admin(.POST, "/_local/faults", ["fault": "latency"]).status == 400)
            #expect(try await client.admin(.POST, "/_local/faults", ["fault": "throttle", "count": 0]).status == 400)
        }
    }
}
