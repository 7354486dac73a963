import Foundation
import Logging
import NIOHTTP1
import Testing
@testable import StepFunctions

/// Runs every provider through success and failure with a trace-level logger, then looks for the
/// secret access key and the session token in every log line, error message and description.
@Suite(.timeLimit(.minutes(1))) struct SecretScanTests {
    @Test func noSecretReachesALogLineAnErrorOrADescription() async throws {
        let (logger, logs) = RecordingLogHandler.logger()
        let secret = TestSecrets.secretKey
        let token = TestSecrets.sessionToken
        var texts: [String] = []  // error messages and descriptions
        var obtained: [AWSCredentials] = []

        let home = try TempDirectory()
        defer { home.remove() }
        let sts = try await STSCredentialTests.sts()
        let imds = try await IMDSCredentialProviderTests.imds()
        let imdsV1 = try await IMDSCredentialProviderTests.imds(tokenStatus: .notFound)
        let imdsBroken = try await IMDSCredentialProviderTests.imds(tokenStatus: .internalServerError)
        let container = try await StandIn.start { request in
            request.uri == "/good"
                ? .text(#"{"AccessKeyId":"ASIA","SecretAccessKey":"\#(secret)","Token":"\#(token)","Expiration":"2027-01-15T10:00:00Z"}"#)
                : .text(#"{"SecretAccessKey":"\#(secret)","Token":"\#(token)"}"#)
        }
        try home.write("systemd/aws-access-key-id", "AKIA\n")
        try home.write("systemd/aws-secret-access-key", secret + "\n")
        try home.write("systemd/aws-session-token", token + "\n")
        try home.write("half/aws-secret-access-key", secret)
        let webToken = try home.write("web-token", "jwt")
        try home.write("ok.sh", "#!/bin/sh\nprintf '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\(secret)\",\"SessionToken\":\"\(token)\"}'\n", executable: true)
        try home.write("fail.sh", "#!/bin/sh\nprintf '{\"SecretAccessKey\":\"\(secret)\",\"SessionToken\":\"\(token)\"}'\nexit 2\n", executable: true)
        try home.write("junk.sh", "#!/bin/sh\nprintf '\(secret) \(token)'\n", executable: true)
        try home.write(".aws/credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = \(secret)\naws_session_token = \(token)\n")
        try home.write(".aws/config", """
            [profile ok]
            credential_process = \(home.path)/ok.sh
            [profile fail]
            credential_process = \(home.path)/fail.sh
            [profile junk]
            credential_process = \(home.path)/junk.sh
            [profile role]
            role_arn = arn:aws:iam::1:role/role
            source_profile = base
            [profile denied]
            role_arn = arn:aws:iam::1:role/denied
            source_profile = base
            [profile half]
            aws_secret_access_key = \(secret)
            """)

        try await withHTTPClient { client in
            func attempt(_ provider: any CredentialProvider) async {
                do {
                    let credentials = try await provider.credentials()
                    obtained.append(credentials)
                    texts.append("\(credentials)")
                    texts.append(String(reflecting: credentials))
                    logger.debug("credentials obtained", metadata: ["credentials": "\(credentials)"])
                } catch {
                    texts.append("\(error)")
                    texts.append(String(reflecting: error))
                    logger.debug("credentials failed", metadata: ["error": "\(error)"])
                }
            }
            let environment = ["HOME": home.path, "AWS_ENDPOINT_URL_STS": sts.baseURL, "PATH": "/usr/bin:/bin"]
            await attempt(EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token]))
            await attempt(EnvironmentCredentialProvider(environment: ["AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token]))
            await attempt(SystemdCredentialProvider(environment: ["CREDENTIALS_DIRECTORY": home.path + "/systemd"]))
            await attempt(SystemdCredentialProvider(environment: ["CREDENTIALS_DIRECTORY": home.path + "/half"]))
            for role in ["web", "denied"] {
                await attempt(WebIdentityCredentialProvider(
                    environment: environment.merging(["AWS_WEB_IDENTITY_TOKEN_FILE": webToken, "AWS_ROLE_ARN": "arn:aws:iam::1:role/\(role)"]) { $1 },
                    httpClient: client, logger: logger))
            }
            for profile in ["base", "ok", "fail", "junk", "role", "denied", "half", "missing"] {
                await attempt(SharedFilesCredentialProvider(profile: profile, environment: environment, httpClient: client, logger: logger))
            }
            for path in ["/good", "/bad"] {
                await attempt(ContainerCredentialProvider(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": container.baseURL + path, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "auth"],
                    httpClient: client, logger: logger, timeout: standInTimeout))
            }
            for endpoint in [imds, imdsV1, imdsBroken] {
                await attempt(IMDSCredentialProvider(client: IMDSClient(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint.baseURL], httpClient: client, logger: logger,
                    timeout: standInTimeout)))
            }
            // The cache logs what it stores and why a refresh failed.
            let clock = TestClock()
            let cache = CachingCredentialProvider(
                wrapping: SharedFilesCredentialProvider(profile: "role", environment: environment, httpClient: client, logger: logger),
                logger: logger, now: clock.function)
            await attempt(cache)
            await attempt(CredentialProviderChain.default(
                profile: nil, environment: ["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"], httpClient: client, logger: logger))
        }
        for server in [sts, imds, imdsV1, imdsBroken, container] { await server.shutdown() }

        // The run did see the secrets and did log: the scan below is not vacuous.
        #expect(obtained.count >= 9)
        #expect(obtained.allSatisfy { $0.secretAccessKey == secret })
        #expect(logs.all.count >= 30)
        #expect(logs.all.contains { $0.hasPrefix("trace") })
        #expect(texts.count >= 40)
        let everything = logs.all + texts
        for line in everything {
            #expect(!line.contains(secret), "secret access key in: \(line.replacingOccurrences(of: secret, with: "<SECRET>"))")
            #expect(!line.contains(token), "session token in: \(line.replacingOccurrences(of: token, with: "<TOKEN>"))")
        }
    }
}
