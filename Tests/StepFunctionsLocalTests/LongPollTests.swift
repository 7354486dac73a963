import Foundation
import NIOHTTP1
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

/// GetActivityTask as a real long poll.
@Suite(.timeLimit(.minutes(1))) struct LongPollTests {
    @Test func aPollWithNothingToDoAnswersEmptyAfterThePollTime() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("idle")
            let elapsed = try await ContinuousClock().measure {
                let reply = try await client.call("GetActivityTask", ["activityArn": arn])
                #expect(reply.status == 200)
                #expect(reply.text == "{}")
            }
            #expect(elapsed >= .milliseconds(950))
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func aWaitingPollWakesWhenATaskArrives() async throws {
        let configuration = LocalEndpointConfiguration(pollDuration: .seconds(20))
        try await withLocalEndpoint(configuration) { server, client async throws in
            let arn = try await client.createActivity("work")
            let clock = ContinuousClock()
            let start = clock.now
            async let poll = client.call("GetActivityTask", ["activityArn": arn, "workerName": "host-1"], timeout: .seconds(30))
            #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 1 })
            let id = try await client.submit(arn, input: "{\"n\":1}")
            let reply = try await poll
            #expect(clock.now - start < .seconds(5))
            let token = try #require(reply["taskToken"] as? String)
            #expect(token.count >= 700)
            #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(reply["input"] as? String == "{\"n\":1}")
            let task = try await client.admin(.GET, "/_local/tasks/\(id)")
            #expect(task["status"] as? String == "STARTED")
            #expect(task["workerName"] as? String == "host-1")
        }
    }

    @Test func aTaskSubmittedBeforeThePollIsHandedOutAtOnce() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            _ = try await client.submit(arn, input: "[1]")
            let elapsed = try await ContinuousClock().measure {
                let reply = try await client.call("GetActivityTask", ["activityArn": arn])
                #expect(reply["input"] as? String == "[1]")
            }
            // Not held for the long poll (1 s here): a loaded 2-core machine can take 500 ms.
            #expect(elapsed < .milliseconds(900))
        }
    }

    @Test func waitingPollsAreServedFirstComeFirstServed() async throws {
        let configuration = LocalEndpointConfiguration(pollDuration: .seconds(20))
        try await withLocalEndpoint(configuration) { server, client async throws in
            let arn = try await client.createActivity("fifo")
            async let first = client.call("GetActivityTask", ["activityArn": arn, "workerName": "first"], timeout: .seconds(30))
            #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 1 })
            async let second = client.call("GetActivityTask", ["activityArn": arn, "workerName": "second"], timeout: .seconds(30))
            #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 2 })
            let a = try await client.submit(arn, input: "\"a\"")
            let b = try await client.submit(arn, input: "\"b\"")
            #expect(try await first["input"] as? String == "\"a\"")
            #expect(try await second["input"] as? String == "\"b\"")
            #expect(await server.endpoint.task(id: a)?.workerName == "first")
            #expect(await server.endpoint.task(id: b)?.workerName == "second")
        }
    }

    @Test func pollsOfOneActivityDoNotSeeTasksOfAnother() async throws {
        try await withLocalEndpoint { _, client async throws in
            let one = try await client.createActivity("one")
            let two = try await client.createActivity("two")
            _ = try await client.submit(two)
            #expect(try await client.call("GetActivityTask", ["activityArn": one]).text == "{}")
            #expect(try await client.call("GetActivityTask", ["activityArn": two])["taskToken"] != nil)
        }
    }

    @Test func pollErrors() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("work")
            let missing = "arn:aws:states:us-east-1:123456789012:activity:missing"
            #expect(try await client.call("GetActivityTask", ["activityArn": missing]).errorType == "ActivityDoesNotExist")
            #expect(try await client.call("GetActivityTask", ["activityArn": "nope"]).errorType == "InvalidArn")
            #expect(try await client.call("GetActivityTask", [:]).errorType == "ValidationException")
            let longName = String(repeating: "w", count: 81)
            let tooLong = try await client.call("GetActivityTask", ["activityArn": arn, "workerName": longName])
            #expect(tooLong.errorType == "ValidationException")
        }
    }

    @Test func morePollsThanTheLimitAreRefused() async throws {
        let configuration = LocalEndpointConfiguration(pollDuration: .seconds(2), maxOpenPollsPerActivity: 2)
        try await withLocalEndpoint(configuration) { server, client async throws in
            let arn = try await client.createActivity("busy")
            async let one = client.call("GetActivityTask", ["activityArn": arn])
            async let two = client.call("GetActivityTask", ["activityArn": arn])
            #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 2 })
            let third = try await client.call("GetActivityTask", ["activityArn": arn])
            #expect(third.status == 400)
            #expect(third.errorType == "ActivityWorkerLimitExceeded")
            #expect(try await one.status == 200)
            #expect(try await two.status == 200)
        }
    }

    @Test func deletingAnActivityEndsItsPolls() async throws {
        let configuration = LocalEndpointConfiguration(pollDuration: .seconds(20))
        try await withLocalEndpoint(configuration) { server, client async throws in
            let arn = try await client.createActivity("doomed")
            async let poll = client.call("GetActivityTask", ["activityArn": arn], timeout: .seconds(30))
            #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 1 })
            _ = try await client.call("DeleteActivity", ["activityArn": arn])
            #expect(try await poll.text == "{}")
        }
    }
}

/// Stopping the server while polls are open.
@Suite(.timeLimit(.minutes(1))) struct ShutdownTests {
    @Test func shutdownEndsOpenPollsPromptly() async throws {
        let server = try await LocalEndpointServer.start(LocalEndpointConfiguration(pollDuration: .seconds(60)))
        let arn = try await server.endpoint.createActivity(name: "work").arn
        let poll = Task { try await server.endpoint.getActivityTask(activityArn: arn, workerName: nil) }
        #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 1 })
        let elapsed = await ContinuousClock().measure {
            poll.cancel()
            await server.shutdown()
        }
        #expect(try await poll.value == nil)
        #expect(elapsed < .seconds(5))
    }

    @Test func shutdownWithAnOpenHTTPPollReturns() async throws {
        let elapsed = try await ContinuousClock().measure {
            try await withLocalEndpoint(LocalEndpointConfiguration(pollDuration: .seconds(60))) { server, client async throws in
                let arn = try await client.createActivity("work")
                let poll = Task { try? await client.call("GetActivityTask", ["activityArn": arn], timeout: .seconds(90)) }
                #expect(try await waitUntil { await server.endpoint.stats().activities[arn]?.openPolls == 1 })
                await server.shutdown()
                _ = await poll.value
            }
        }
        #expect(elapsed < .seconds(10))
    }

    @Test func aBadActivityNameStopsTheStart() async throws {
        await #expect(throws: LocalServiceError.self) {
            _ = try await LocalEndpointServer.start(LocalEndpointConfiguration(activities: ["ok", "not ok"]))
        }
    }
}
