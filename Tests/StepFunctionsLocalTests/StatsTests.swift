import Foundation
import NIOHTTP1
import StepFunctionsLocal
import StepWorkerTestKit
import Testing

/// GET /_local/stats: open polls now and at most, operations served, tasks by status.
@Suite(.timeLimit(.minutes(1))) struct StatsTests {
    @Test func openPollsAndTheirMaximumAreCounted() async throws {
        try await withLocalEndpoint(LocalEndpointConfiguration(pollDuration: .seconds(1))) { _, client async throws in
            let arn = try await client.createActivity("work")
            async let a = client.call("GetActivityTask", ["activityArn": arn])
            async let b = client.call("GetActivityTask", ["activityArn": arn])
            async let c = client.call("GetActivityTask", ["activityArn": arn])
            #expect(try await waitUntil {
                let stats = try await client.admin(.GET, "/_local/stats")
                return Self.activity(stats, arn)["openPolls"] as? Int == 3
            })
            _ = try await (a, b, c)
            _ = try await client.submit(arn)
            _ = try await client.call("GetActivityTask", ["activityArn": arn])
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "throttle"])
            _ = try await client.call("GetActivityTask", ["activityArn": arn])
            let stats = try await client.admin(.GET, "/_local/stats")
            let activity = Self.activity(stats, arn)
            #expect(activity["openPolls"] as? Int == 0)
            #expect(activity["maxOpenPolls"] as? Int == 3)
            #expect((activity["operations"] as? [String: Int])?["GetActivityTask"] == 4)
            #expect((activity["operations"] as? [String: Int])?["CreateActivity"] == 1)
            #expect((activity["tasks"] as? [String: Int])?["STARTED"] == 1)
            #expect((stats["requests"] as? [String: Int])?["GetActivityTask"] == 5)
            #expect((stats["faults"] as? [String: Int])?["throttle"] == 1)
        }
    }

    /// Open polls and started tasks share slots: a poll handed a task passes its slot on, a task
    /// gives its slot back when its result is taken or it times out.
    @Test func slotsInUseCountPollsAndStartedTasksOnce() async throws {
        try await withLocalEndpoint(LocalEndpointConfiguration(pollDuration: .seconds(1))) { _, client async throws in
            let arn = try await client.createActivity("work")
            func slots() async throws -> (now: Int?, max: Int?) {
                let activity = Self.activity(try await client.admin(.GET, "/_local/stats"), arn)
                return (activity["slotsInUse"] as? Int, activity["maxSlotsInUse"] as? Int)
            }
            // A task handed to a poll at once, then one handed to a waiting poll.
            _ = try await client.submit(arn)
            let first = try await client.call("GetActivityTask", ["activityArn": arn])
            let firstToken = try #require(first["taskToken"] as? String)
            #expect(try await slots() == (1, 1))
            async let waiting = client.call("GetActivityTask", ["activityArn": arn])
            #expect(try await waitUntil { try await slots().now == 2 })
            _ = try await client.submit(arn, heartbeatSeconds: 2)
            let second = try await waiting
            #expect(second["taskToken"] is String)
            #expect(try await slots() == (2, 2))
            // A result frees the first slot; a missed heartbeat frees the second.
            _ = try await client.call("SendTaskSuccess", ["taskToken": firstToken, "output": "{}"])
            #expect(try await slots() == (1, 2))
            #expect(try await waitUntil { try await slots().now == 0 })
            #expect(try await slots() == (0, 2))
            // A poll that ends empty gives its slot back; a rejected result changes nothing.
            _ = try await client.call("GetActivityTask", ["activityArn": arn])
            _ = try await client.call("SendTaskSuccess", ["taskToken": firstToken, "output": "{}"])
            #expect(try await slots() == (0, 2))
        }
    }

    static func activity(_ stats: TestClient.Reply, _ arn: String) -> [String: Any] {
        (stats["activities"] as? [String: Any])?[arn] as? [String: Any] ?? [:]
    }
}
