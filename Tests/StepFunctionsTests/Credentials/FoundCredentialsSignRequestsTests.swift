import Logging
import StepFunctions
import StepFunctionsLocal
import Testing

/// Credentials found by the real chain sign requests that the local endpoint verifies: the
/// whole path from a credential source to an accepted `SendTask*` call.
@Suite(.timeLimit(.minutes(1)))
struct FoundCredentialsSignRequestsTests {
    /// Creates an activity on an endpoint that only accepts `accepted`, signing with `provider`.
    func createActivity(signingWith provider: any CredentialProvider, endpointAccepts accepted: AWSCredentials, http: HTTP1Client) async throws {
        let server = try await LocalEndpointServer.start(.init(credentials: accepted))
        do {
            let endpoint = try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: server.baseURL), environment: [:])
            var configuration = StepFunctionsClient.Configuration(endpoint: endpoint)
            configuration.retryPolicy = .none
            let client = StepFunctionsClient(configuration: configuration, credentials: provider, httpClient: http)
            _ = try await client.createActivity(name: "found-credentials")
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func sharedFileKeysSignRequestsTheEndpointAccepts() async throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let file = try directory.write("credentials", "[default]\naws_access_key_id = AKIDSHARED\naws_secret_access_key = shared-file-secret\n")
        let environment = [
            "HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": file, "AWS_CONFIG_FILE": directory.path + "/absent",
            "AWS_EC2_METADATA_DISABLED": "true",
        ]
        try await withHTTPClient { http in
            let chain = CredentialProviderChain.default(profile: nil, environment: environment, httpClient: http, logger: Logger(label: "test"))
            try await createActivity(
                signingWith: chain, endpointAccepts: AWSCredentials(accessKeyID: "AKIDSHARED", secretAccessKey: "shared-file-secret"), http: http)

            let error = try await #require(throws: StepFunctionsError.self) {
                try await createActivity(
                    signingWith: chain, endpointAccepts: AWSCredentials(accessKeyID: "AKIDSHARED", secretAccessKey: "another-secret"), http: http)
            }
            #expect(error.code == "InvalidSignatureException")
        }
    }

    @Test func imdsTemporaryCredentialsSignWithTheirSessionToken() async throws {
        let imds = try await IMDSCredentialProviderTests.imds()
        let directory = try TempDirectory()
        defer { directory.remove() }
        let environment = [
            "HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": directory.path + "/absent",
            "AWS_CONFIG_FILE": directory.path + "/absent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.baseURL + "/",
        ]
        let issued = AWSCredentials(accessKeyID: "ASIAIMDS", secretAccessKey: TestSecrets.secretKey, sessionToken: TestSecrets.sessionToken)
        do {
            try await withHTTPClient { http in
                let chain = CredentialProviderChain.default(profile: nil, environment: environment, httpClient: http, logger: Logger(label: "test"))
                try await createActivity(signingWith: chain, endpointAccepts: issued, http: http)

                var otherToken = issued
                otherToken.sessionToken = "a-different-session-token"
                let error = try await #require(throws: StepFunctionsError.self) {
                    try await createActivity(signingWith: chain, endpointAccepts: otherToken, http: http)
                }
                #expect(error.kind == .invalidRequest)
            }
        } catch {
            await imds.shutdown()
            throw error
        }
        await imds.shutdown()
        #expect(imds.requests(to: "/latest/api/token").count == 1, "credentials are cached, not fetched per request")
    }
}
