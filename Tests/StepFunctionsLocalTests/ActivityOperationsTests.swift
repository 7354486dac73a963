import Foundation
import NIOHTTP1
import StepFunctionsLocal
import Testing

/// CreateActivity, DescribeActivity, ListActivities, DeleteActivity and the protocol's errors,
/// over loopback HTTP.
@Suite(.timeLimit(.minutes(1))) struct ActivityOperationsTests {
    @Test func createIsIdempotentByName() async throws {
        try await withLocalEndpoint { _, client async throws in
            let first = try await client.call("CreateActivity", ["name": "resize"])
            #expect(first.status == 200)
            #expect(first.headers.first(name: "Content-Type") == "application/x-amz-json-1.0")
            #expect(first["activityArn"] as? String == "arn:aws:states:us-east-1:123456789012:activity:resize")
            #expect(first["creationDate"] is Double)
            let second = try await client.call("CreateActivity", ["name": "resize"])
            #expect(second["activityArn"] as? String == first["activityArn"] as? String)
            #expect(second["creationDate"] as? Double == first["creationDate"] as? Double)
        }
    }

    @Test func regionAndAccountAreConfigurable() async throws {
        let configuration = LocalEndpointConfiguration(region: "eu-west-1", accountID: "999988887777")
        try await withLocalEndpoint(configuration) { _, client async throws in
            #expect(try await client.createActivity("a") == "arn:aws:states:eu-west-1:999988887777:activity:a")
        }
    }

    @Test func describeAndDelete() async throws {
        try await withLocalEndpoint { _, client async throws in
            let arn = try await client.createActivity("resize")
            let described = try await client.call("DescribeActivity", ["activityArn": arn])
            #expect(described.status == 200)
            #expect(described["name"] as? String == "resize")
            #expect(described["activityArn"] as? String == arn)
            let deleted = try await client.call("DeleteActivity", ["activityArn": arn])
            #expect(deleted.status == 200)
            #expect(deleted.text == "{}")
            let gone = try await client.call("DescribeActivity", ["activityArn": arn])
            #expect(gone.status == 400)
            #expect(gone.errorType == "ActivityDoesNotExist")
            #expect(try await client.call("DeleteActivity", ["activityArn": arn]).errorType == "ActivityDoesNotExist")
        }
    }

    @Test func listPagesThroughEveryActivity() async throws {
        try await withLocalEndpoint { _, client async throws in
            for name in ["e", "b", "d", "a", "c"] { _ = try await client.createActivity(name) }
            var names: [String] = []
            var nextToken: String?
            var pages = 0
            repeat {
                var body: [String: any Sendable] = ["maxResults": 2]
                if let nextToken { body["nextToken"] = nextToken }
                let page = try await client.call("ListActivities", body)
                #expect(page.status == 200)
                let activities = page["activities"] as? [[String: Any]] ?? []
                #expect(activities.count <= 2)
                names += activities.compactMap { $0["name"] as? String }
                nextToken = page["nextToken"] as? String
                pages += 1
            } while nextToken != nil && pages < 10
            #expect(names == ["a", "b", "c", "d", "e"])
            #expect(pages == 3)
            let all = try await client.call("ListActivities", [:])
            #expect((all["activities"] as? [Any])?.count == 5)
            #expect(all["nextToken"] == nil)
            #expect(try await client.call("ListActivities", ["nextToken": "garbage!"]).errorType == "InvalidToken")
            #expect(try await client.call("ListActivities", ["maxResults": 1001]).errorType == "ValidationException")
        }
    }

    @Test func badArnsAndNames() async throws {
        try await withLocalEndpoint { _, client async throws in
            let badArn = try await client.call("DescribeActivity", ["activityArn": "not-an-arn"])
            #expect(badArn.status == 400)
            #expect(badArn.errorType == "InvalidArn")
            #expect(badArn["__type"] as? String == "com.amazonaws.sfn#InvalidArn")
            #expect(badArn.headers.first(name: "X-Amzn-ErrorType")?.hasPrefix("InvalidArn") == true)
            let stateMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:x"
            #expect(try await client.call("DescribeActivity", ["activityArn": stateMachine]).errorType == "InvalidArn")
            #expect(try await client.call("CreateActivity", ["name": "has space"]).errorType == "InvalidName")
            #expect(try await client.call("CreateActivity", ["name": String(repeating: "n", count: 81)]).errorType == "InvalidName")
        }
    }

    @Test func protocolErrors() async throws {
        try await withLocalEndpoint { _, client async throws in
            let unknown = try await client.call("StartExecution", [:])
            #expect(unknown.status == 400)
            #expect(unknown.errorType == "UnknownOperationException")
            let badJSON = try await client.call("CreateActivity", raw: "{not json")
            #expect(badJSON.status == 400)
            #expect(badJSON.errorType == "SerializationException")
            let wrongType = try await client.call("CreateActivity", ["name": 5])
            #expect(wrongType.errorType == "SerializationException")
            let missing = try await client.call("CreateActivity", [:])
            #expect(missing.status == 400)
            #expect(missing.errorType == "ValidationException")
            #expect((missing["message"] as? String)?.contains("'name'") == true)
        }
    }
}
