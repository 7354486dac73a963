import Foundation
import Logging
import NIOHTTP1
import StepFunctionsLocal
import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct IMDSCredentialProviderTests {
    static let listPath = "/latest/meta-data/iam/security-credentials/"

    /// An IMDS that hands out `token-N` (N counts PUTs) and wants the latest one on each GET;
    /// `tokenStatus` replaces the token answer when set.
    static func imds(tokenStatus: HTTPResponseStatus? = nil) async throws -> StandIn {
        let issued = Locked(0)
        return try await StandIn.start { request in
            switch (request.method, request.uri) {
            case ("PUT", "/latest/api/token"):
                if let tokenStatus { return .status(tokenStatus) }
                guard request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600" else { return .status(.badRequest) }
                return .text("token-\(issued.withLock { $0 += 1; return $0 })")
            case ("GET", _):
                if tokenStatus == nil, request.header("X-aws-ec2-metadata-token") != "token-\(issued.withLock { $0 })" {
                    return .status(.unauthorized)
                }
                if request.uri == listPath { return .text("worker-role\n") }
                if request.uri == listPath + "worker-role" {
                    return .text(TestSecrets.imdsDocument(expiration: "2027-01-15T10:00:00Z"))
                }
                if request.uri == "/latest/meta-data/placement/region" { return .text("ap-south-1") }
                return .status(.notFound)
            default:
                return .status(.methodNotAllowed)
            }
        }
    }

    /// A provider for a stand-in that answers, with `standInTimeout`.
    static func provider(_ standIn: StandIn, clock: TestClock = TestClock(), _ client: HTTP1Client) -> IMDSCredentialProvider {
        IMDSCredentialProvider(client: IMDSClient(
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": standIn.baseURL + "/"], httpClient: client,
            logger: Logger(label: "test"), now: clock.function, timeout: standInTimeout))
    }

    @Test func imdsV2TokenThenRoleNameThenRoleDocument() async throws {
        let standIn = try await Self.imds()
        let credentials = try await withHTTPClient { try await Self.provider(standIn, $0).credentials() }
        await standIn.shutdown()
        #expect(credentials.accessKeyID == "ASIAIMDS")
        #expect(credentials.secretAccessKey == TestSecrets.secretKey)
        #expect(credentials.sessionToken == TestSecrets.sessionToken)
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_800_007_200))
        let requests = standIn.requests
        #expect(requests.map { "\($0.method) \($0.uri)" } == [
            "PUT /latest/api/token", "GET \(Self.listPath)", "GET \(Self.listPath)worker-role",
        ])
        #expect(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
        #expect(requests[1].header("X-aws-ec2-metadata-token") == "token-1")
        #expect(requests[2].header("X-aws-ec2-metadata-token") == "token-1")
    }

    @Test func sessionTokenIsReusedUntilNearItsTTL() async throws {
        let standIn = try await Self.imds()
        let clock = TestClock()
        try await withHTTPClient { client in
            let provider = Self.provider(standIn, clock: clock, client)
            _ = try await provider.credentials()
            clock.advance(by: 21_600 - 301)
            _ = try await provider.credentials()
            #expect(standIn.requests(to: "/latest/api/token").count == 1)
            clock.advance(by: 2)
            _ = try await provider.credentials()
            #expect(standIn.requests(to: "/latest/api/token").count == 2)
        }
        await standIn.shutdown()
        #expect(standIn.requests.last?.header("X-aws-ec2-metadata-token") == "token-2")
    }

    @Test(arguments: [HTTPResponseStatus.forbidden, .notFound, .methodNotAllowed])
    func fallsBackToIMDSv1OnlyWhenTheTokenCallIsRefused(status: HTTPResponseStatus) async throws {
        let standIn = try await Self.imds(tokenStatus: status)
        let credentials = try await withHTTPClient { try await Self.provider(standIn, $0).credentials() }
        await standIn.shutdown()
        #expect(credentials.accessKeyID == "ASIAIMDS")
        let gets = standIn.requests.filter { $0.method == "GET" }
        #expect(gets.count == 2)
        #expect(gets.allSatisfy { $0.header("X-aws-ec2-metadata-token") == nil })
    }

    @Test(arguments: [HTTPResponseStatus.badRequest, .internalServerError, .serviceUnavailable])
    func otherTokenFailuresDoNotFallBack(status: HTTPResponseStatus) async throws {
        let standIn = try await Self.imds(tokenStatus: status)
        let error = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { try await Self.provider(standIn, $0).credentials() }
        }
        await standIn.shutdown()
        #expect(error?.code == .retrievalFailed)
        #expect(error?.message.contains("HTTP \(status.code)") == true)
        #expect(standIn.requests.filter { $0.method == "GET" }.isEmpty)
    }

    @Test func disabledMakesNoRequest() async throws {
        let standIn = try await Self.imds()
        let error = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { client in
                try await IMDSCredentialProvider(client: IMDSClient(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": standIn.baseURL, "AWS_EC2_METADATA_DISABLED": "TRUE"],
                    httpClient: client, logger: Logger(label: "test"))).credentials()
            }
        }
        await standIn.shutdown()
        #expect(error == .notConfigured("IMDS", "AWS_EC2_METADATA_DISABLED is true"))
        #expect(standIn.requests.isEmpty)
    }

    @Test func noRoleAttachedIsNotConfigured() async throws {
        let standIn = try await StandIn.start { request in
            request.method == "PUT" ? .text("t") : .status(.notFound)
        }
        let error = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { try await Self.provider(standIn, $0).credentials() }
        }
        await standIn.shutdown()
        #expect(error?.code == .notConfigured)
    }

    @Test func unreachableOrSilentServiceIsNotConfiguredQuickly() async throws {
        let port = try await closedPort()
        let refused = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { client in
                try await IMDSCredentialProvider(client: IMDSClient(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"],
                    httpClient: client, logger: Logger(label: "test"))).credentials()
            }
        }
        #expect(refused == .notConfigured("IMDS", "http://127.0.0.1:\(port): connection refused"))

        let silent = try await StandIn.start { _ in
            try? await Task.sleep(for: .seconds(30))
            return .status(.ok)
        }
        let started = ContinuousClock.now
        let timedOut = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { client in
                try await IMDSCredentialProvider(client: IMDSClient(
                    environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": silent.baseURL],
                    httpClient: client, logger: Logger(label: "test"), timeout: .milliseconds(300))).credentials()
            }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        await silent.shutdown()
        #expect(timedOut == .notConfigured("IMDS", "\(silent.baseURL): timed out"))
    }
}
