import Foundation
import StepFunctions
import StepFunctionsLocal
import Testing

/// SigV4 verification over HTTP, with requests signed by our own signer.
@Suite(.timeLimit(.minutes(1))) struct SignedRequestTests {
    let configuration = LocalEndpointConfiguration(credentials: testCredentials, pollDuration: .seconds(1))

    @Test func aSignedRequestIsServed() async throws {
        try await withLocalEndpoint(configuration) { _, client async throws in
            let arn = try await client.createActivity("signed")
            _ = try await client.submit(arn, input: "{\"x\":1}")
            let poll = try await client.call("GetActivityTask", ["activityArn": arn])
            #expect(poll["input"] as? String == "{\"x\":1}")
        }
    }

    @Test func aWrongSecretIsRefused() async throws {
        let wrong = AWSCredentials(accessKeyID: testCredentials.accessKeyID, secretAccessKey: "wrong")
        try await withLocalEndpoint(configuration, signingWith: wrong) { _, client async throws in
            let reply = try await client.call("ListActivities", [:])
            #expect(reply.status == 403)
            #expect(reply.errorType == "InvalidSignatureException")
        }
    }

    @Test func anUnknownKeyIsRefused() async throws {
        let other = AWSCredentials(accessKeyID: "AKIDUNKNOWN", secretAccessKey: testCredentials.secretAccessKey)
        try await withLocalEndpoint(configuration, signingWith: other) { _, client async throws in
            let reply = try await client.call("ListActivities", [:])
            #expect(reply.status == 403)
            #expect(reply.errorType == "UnrecognizedClientException")
            #expect(reply["message"] as? String == "The security token included in the request is invalid.")
        }
    }

    @Test func anUnsignedRequestIsRefused() async throws {
        try await withLocalEndpoint(configuration) { _, client async throws in
            var unsigned = client
            unsigned.credentials = nil
            #expect(try await unsigned.call("ListActivities", [:]).errorType == "MissingAuthenticationTokenException")
        }
    }

    @Test func anOldSignatureHasExpired() async throws {
        try await withLocalEndpoint(configuration) { _, client async throws in
            let reply = try await client.call("ListActivities", [:], date: Date().addingTimeInterval(-20 * 60))
            #expect(reply.errorType == "InvalidSignatureException")
            #expect((reply["message"] as? String)?.hasPrefix("Signature expired") == true)
        }
    }

    @Test func withoutCredentialsAnythingIsAccepted() async throws {
        try await withLocalEndpoint(LocalEndpointConfiguration(), signingWith: testCredentials) { _, client async throws in
            #expect(try await client.call("ListActivities", [:]).status == 200)
            var unsigned = client
            unsigned.credentials = nil
            #expect(try await unsigned.call("ListActivities", [:]).status == 200)
        }
    }
}
