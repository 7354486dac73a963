import Foundation
import NIOHTTP1
import StepFunctionsLocal
import Testing

/// The load the daemon's tests will put on the endpoint: hundreds of tasks over several
/// activities, many open polls, faults on the way, all over HTTP.
@Suite(.timeLimit(.minutes(1))) struct LoadTests {
    @Test func fiveHundredTasksAcrossThreeActivities() async throws {
        let configuration = LocalEndpointConfiguration(pollDuration: .milliseconds(300))
        try await withLocalEndpoint(configuration) { server, client async throws in
            let pollersPerActivity = 6
            var arns: [String] = []
            for name in ["a", "b", "c"] { arns.append(try await client.createActivity(name)) }
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "throttle", "count": 5, "operation": "SendTaskHeartbeat"])
            _ = try await client.admin(.POST, "/_local/faults", ["fault": "serverError", "count": 5, "operation": "GetActivityTask"])
            var ids: [String] = []
            for index in 0..<500 {
                ids.append(try await client.submit(arns[index % 3], input: "{\"n\":\(index)}", heartbeatSeconds: 30))
            }
            let deadline = ContinuousClock.now + .seconds(40)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for arn in arns {
                    for worker in 0..<pollersPerActivity {
                        group.addTask {
                            try await Self.work(client, arn: arn, worker: "w\(worker)", until: deadline) {
                                await server.endpoint.tasks(status: .succeeded).count == 500
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let succeeded = await server.endpoint.tasks(status: .succeeded)
            #expect(succeeded.count == 500)
            #expect(Set(succeeded.map(\.id)) == Set(ids))
            #expect(succeeded.allSatisfy { $0.output == $0.input })
            let stats = await server.endpoint.stats()
            for arn in arns {
                let activity = try #require(stats.activities[arn])
                #expect(activity.maxOpenPolls <= pollersPerActivity)
                #expect(activity.maxOpenPolls >= 1)
                #expect(activity.openPolls == 0)
                #expect(activity.operations["SendTaskSuccess"] == 500 / 3 + (arn == arns[0] || arn == arns[1] ? 1 : 0))
            }
            #expect(stats.faults["throttle"] == 5)
            #expect(stats.faults["serverError"] == 5)
        }
    }

    /// A worker's loop: poll, heartbeat (retrying throttles), echo the input back.
    static func work(
        _ client: TestClient, arn: String, worker: String, until deadline: ContinuousClock.Instant,
        done: () async -> Bool
    ) async throws {
        while await !done() {
            guard ContinuousClock.now < deadline else { throw TestFailure("\(worker) on \(arn) ran out of time") }
            let poll = try await client.call("GetActivityTask", ["activityArn": arn, "workerName": worker])
            guard poll.status == 200, let token = poll["taskToken"] as? String, let input = poll["input"] as? String else { continue }
            var beat = try await client.call("SendTaskHeartbeat", ["taskToken": token])
            while beat.errorType == "ThrottlingException" {
                beat = try await client.call("SendTaskHeartbeat", ["taskToken": token])
            }
            #expect(beat.status == 200)
            let sent = try await client.call("SendTaskSuccess", ["taskToken": token, "output": input])
            #expect(sent.status == 200)
        }
    }
}
