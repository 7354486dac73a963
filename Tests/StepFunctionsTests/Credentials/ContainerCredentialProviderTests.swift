import NIOHTTP1
import Foundation
import Logging
import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct ContainerCredentialProviderTests {
    static func endpoint() async throws -> StandIn {
        try await StandIn.start { request in
            request.uri.hasPrefix("/v2/credentials/") || request.uri == "/creds"
                ? .text(#"{"RoleArn":"arn:aws:iam::1:role/task","AccessKeyId":"ASIATASK","SecretAccessKey":"\#(TestSecrets.secretKey)","Token":"\#(TestSecrets.sessionToken)","Expiration":"2027-01-15T10:00:00Z"}"#)
                : .status(.notFound)
        }
    }

    @Test func relativeURIWithAuthorizationToken() async throws {
        let standIn = try await Self.endpoint()
        let credentials = try await withHTTPClient { client in
            try await ContainerCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Basic xyz"],
                httpClient: client, logger: Logger(label: "test"), relativeBaseURL: standIn.baseURL, timeout: standInTimeout
            ).credentials()
        }
        await standIn.shutdown()
        #expect(credentials == AWSCredentials(
            accessKeyID: "ASIATASK", secretAccessKey: TestSecrets.secretKey, sessionToken: TestSecrets.sessionToken,
            expiration: Date(timeIntervalSince1970: 1_800_007_200)))
        #expect(standIn.requests.map(\.uri) == ["/v2/credentials/abc-123"])
        #expect(standIn.requests.first?.method == "GET")
        #expect(standIn.requests.first?.header("Authorization") == "Basic xyz")
    }

    @Test func fullURIWithTokenFileReadOnEveryFetch() async throws {
        let standIn = try await Self.endpoint()
        let directory = try TempDirectory()
        defer { directory.remove() }
        let tokenFile = try directory.write("token", "first-token\n")
        try await withHTTPClient { client in
            let provider = ContainerCredentialProvider(
                environment: [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": standIn.baseURL + "/creds",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-set",
                ],
                httpClient: client, logger: Logger(label: "test"), timeout: standInTimeout)
            #expect(try await provider.credentials().accessKeyID == "ASIATASK")
            try directory.write("token", "second-token")
            _ = try await provider.credentials()
        }
        await standIn.shutdown()
        #expect(standIn.requests.map { $0.header("Authorization") } == ["first-token", "second-token"])
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/creds", true), ("http://127.5.6.7/creds", true), ("http://localhost/creds", true),
        ("http://[::1]:9000/creds", true), ("http://169.254.170.2/v2/x", true), ("http://169.254.170.23/v1/x", true),
        ("http://[fd00:ec2::23]/v1/x", true), ("https://creds.example.com/x", true),
        ("http://169.254.169.254/latest", false), ("http://10.0.0.1/creds", false), ("http://example.com/creds", false),
        ("http://127.0.0.1.example.com/creds", false), ("ftp://127.0.0.1/creds", false),
    ])
    func fullURIHostsAreRestrictedAsInTheSDKs(url: String, allowed: Bool) async throws {
        try await withHTTPClient { client async throws in
            let provider = ContainerCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url], httpClient: client, logger: Logger(label: "test"))
            if allowed {
                #expect(try provider.resolveURL() == url)
            } else {
                let error = #expect(throws: CredentialError.self) { try provider.resolveURL() }
                #expect(error?.code == .invalidConfiguration)
            }
        }
    }

    @Test func unsetIsNotConfiguredAndErrorsAreRetrievalFailures() async throws {
        let standIn = try await Self.endpoint()
        try await withHTTPClient { client in
            let unset = await #expect(throws: CredentialError.self) {
                try await ContainerCredentialProvider(environment: [:], httpClient: client, logger: Logger(label: "test")).credentials()
            }
            #expect(unset?.code == .notConfigured)
            let missing = await #expect(throws: CredentialError.self) {
                try await ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/nope"], httpClient: client,
                    logger: Logger(label: "test"), relativeBaseURL: standIn.baseURL, timeout: standInTimeout
                ).credentials()
            }
            #expect(missing == .failed("container", "\(standIn.baseURL)/nope answered HTTP 404"))
        }
        await standIn.shutdown()
    }
}
