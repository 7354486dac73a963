import Foundation
import Logging
import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct CredentialProviderChainTests {
    /// Every source set up at once, each with its own access key id.
    struct Everything {
        let home: TempDirectory
        let systemd: TempDirectory
        let container: StandIn
        let imds: StandIn
        let sts: StandIn
        let environment: [String: String]

        init() async throws {
            home = try TempDirectory()
            systemd = try TempDirectory()
            try home.write(".aws/credentials", "[default]\naws_access_key_id = AKIA-FILES\naws_secret_access_key = s\n")
            let token = try home.write("web-token", "jwt")
            try systemd.write("aws-access-key-id", "AKIA-SYSTEMD\n")
            try systemd.write("aws-secret-access-key", "s\n")
            container = try await StandIn.start { _ in
                .text(#"{"AccessKeyId":"ASIA-CONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2027-01-15T10:00:00Z"}"#)
            }
            imds = try await IMDSCredentialProviderTests.imds()
            sts = try await STSCredentialTests.sts()
            environment = [
                "AWS_ACCESS_KEY_ID": "AKIA-ENV", "AWS_SECRET_ACCESS_KEY": "s",
                "CREDENTIALS_DIRECTORY": systemd.path,
                "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::1:role/WEB", "AWS_ENDPOINT_URL_STS": sts.baseURL,
                "HOME": home.path,
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x",
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.baseURL,
            ]
        }

        func chain(_ client: HTTP1Client, without removed: [String], setting: [String: String] = [:]) -> CredentialProviderChain {
            var environment = environment.merging(setting) { $1 }
            for name in removed { environment[name] = nil }
            return CredentialProviderChain(
                CredentialProviderChain.defaultLinks(
                    profile: nil, environment: environment, httpClient: client, logger: Logger(label: "test"),
                    containerRelativeBaseURL: container.baseURL),
                logger: Logger(label: "test"))
        }

        func shutdown() async {
            await container.shutdown()
            await imds.shutdown()
            await sts.shutdown()
            home.remove()
            systemd.remove()
        }
    }

    @Test func firstSourceWithCredentialsWinsInTheSDKsOrder() async throws {
        let all = try await Everything()
        let steps: [(remove: [String], expected: String)] = [
            ([], "AKIA-ENV"),
            (["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], "AKIA-SYSTEMD"),
            (["CREDENTIALS_DIRECTORY"], "ASIA-WEB"),
            (["AWS_WEB_IDENTITY_TOKEN_FILE"], "AKIA-FILES"),
            (["HOME"], "ASIA-CONTAINER"),
            (["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], "ASIAIMDS"),
        ]
        var removed: [String] = []
        var seen: [String] = []
        try await withHTTPClient { client in
            for step in steps {
                removed += step.remove
                seen.append(try await all.chain(client, without: removed).credentials().accessKeyID)
                // Later sources are never asked once an earlier one answered.
                if step.expected != "ASIA-CONTAINER" && step.expected != "ASIAIMDS" { #expect(all.container.requests.isEmpty) }
                if step.expected != "ASIAIMDS" { #expect(all.imds.requests.isEmpty) }
            }
        }
        await all.shutdown()
        #expect(seen == steps.map(\.expected))
        #expect(all.sts.requests.count == 1)
        #expect(all.container.requests.count == 1)
    }

    @Test func aConfiguredSourceThatFailsStopsTheChain() async throws {
        let all = try await Everything()
        let error = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { client in
                let chain = all.chain(
                    client, without: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CREDENTIALS_DIRECTORY"],
                    setting: ["AWS_ROLE_ARN": "arn:aws:iam::1:role/denied"])
                return try await chain.credentials()
            }
        }
        await all.shutdown()
        #expect(error?.source == "web identity")
        #expect(error?.code == .retrievalFailed)
        #expect(all.container.requests.isEmpty)
        #expect(all.imds.requests.isEmpty)
    }

    @Test func nothingFoundListsEverySourceAndWhy() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        let port = try await closedPort()
        let error = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { client in
                try await CredentialProviderChain.default(
                    profile: nil, environment: ["HOME": home.path, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"],
                    httpClient: client, logger: Logger(label: "test")
                ).credentials()
            }
        }
        #expect(error?.code == .noCredentials)
        #expect(error?.description == "no AWS credentials found; tried "
            + "environment: AWS_ACCESS_KEY_ID not set; "
            + "systemd credentials: CREDENTIALS_DIRECTORY not set; "
            + "web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set; "
            + "shared files: profile 'default' not found in \(home.path)/.aws/credentials, \(home.path)/.aws/config; "
            + "container: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI set; "
            + "IMDS: http://127.0.0.1:\(port): connection refused")
    }
}
