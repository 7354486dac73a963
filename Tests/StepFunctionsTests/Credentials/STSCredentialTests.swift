import Foundation
import Logging
import NIOHTTP1
import Testing
@testable import StepFunctions

/// Web identity and AssumeRole against a loopback STS.
@Suite(.timeLimit(.minutes(1))) struct STSCredentialTests {
    static let expiration = "2027-01-15T10:00:00Z"

    /// An STS answering each role with keys named after the role's last path element.
    static func sts() async throws -> StandIn {
        try await StandIn.start { request in
            let form = request.form
            guard request.method == "POST", let action = form["Action"], let role = form["RoleArn"] else {
                return .status(.badRequest)
            }
            if role.hasSuffix("/denied") {
                return .text("""
                    <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
                    <Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRole &amp; more</Message></Error>\
                    <RequestId>r</RequestId></ErrorResponse>
                    """, status: .forbidden)
            }
            let name = role.split(separator: "/").last.map(String.init) ?? "x"
            return .text(TestSecrets.stsAnswer(operation: action, keyID: "ASIA-\(name)", expiration: expiration))
        }
    }

    /// Recomputes the request's SigV4 `Authorization` with `credentials` and compares.
    static func expectSigned(_ request: StandIn.Request, with credentials: AWSCredentials, region: String, at date: Date) {
        guard let authorization = request.header("Authorization") else {
            Issue.record("no Authorization header")
            return
        }
        let signedNames = authorization.components(separatedBy: "SignedHeaders=").last?
            .components(separatedBy: ",").first?.split(separator: ";").map(String.init) ?? []
        #expect(signedNames == ["content-type", "host", "x-amz-date"] + (credentials.sessionToken == nil ? [] : ["x-amz-security-token"]))
        var signing = SigningRequest(
            method: request.method, path: request.uri, query: "",
            headers: signedNames.filter { $0 != "x-amz-date" }.map { .init(name: $0, value: request.header($0) ?? "") },
            body: Array(request.body.utf8))
        SigV4Signer(service: "sts", region: region).sign(&signing, credentials: credentials, date: date)
        #expect(request.header("X-Amz-Date") == SigV4Signer.timestamp(date))
        #expect(request.header("X-Amz-Security-Token") == credentials.sessionToken)
        #expect(signing.values(of: "Authorization") == [authorization])
        #expect(authorization.contains("/\(region)/sts/aws4_request"))
    }

    @Test func webIdentityPostsTheFormUnsignedAndRereadsTheToken() async throws {
        let sts = try await Self.sts()
        let directory = try TempDirectory()
        defer { directory.remove() }
        let tokenFile = try directory.write("token", "eyJ.first.token\n")
        let environment = [
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
            "AWS_ROLE_SESSION_NAME": "my session", "AWS_ENDPOINT_URL_STS": sts.baseURL, "AWS_REGION": "eu-west-1",
        ]
        try await withHTTPClient { client in
            let provider = WebIdentityCredentialProvider(environment: environment, httpClient: client, logger: Logger(label: "test"))
            let credentials = try await provider.credentials()
            #expect(credentials == AWSCredentials(
                accessKeyID: "ASIA-web", secretAccessKey: TestSecrets.secretKey, sessionToken: TestSecrets.sessionToken,
                expiration: Date(timeIntervalSince1970: 1_800_007_200)))
            try directory.write("token", "eyJ.second.token")
            _ = try await provider.credentials()
        }
        await sts.shutdown()
        let requests = sts.requests
        #expect(requests.count == 2)
        #expect(requests[0].uri == "/")
        #expect(requests[0].header("Content-Type") == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(requests[0].header("Authorization") == nil)
        #expect(requests[0].form == [
            "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::123456789012:role/web",
            "RoleSessionName": "my session", "WebIdentityToken": "eyJ.first.token",
        ])
        #expect(requests[1].form["WebIdentityToken"] == "eyJ.second.token")
    }

    @Test func webIdentityGeneratesASessionNameAndReportsSTSErrors() async throws {
        let sts = try await Self.sts()
        let directory = try TempDirectory()
        defer { directory.remove() }
        let tokenFile = try directory.write("token", "tok")
        try await withHTTPClient { client in
            let ok = WebIdentityCredentialProvider(
                environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/web", "AWS_ENDPOINT_URL": sts.baseURL],
                httpClient: client, logger: Logger(label: "test"), now: { Date(timeIntervalSince1970: 1_800_000_000) })
            _ = try await ok.credentials()
            let denied = WebIdentityCredentialProvider(
                environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/denied", "AWS_ENDPOINT_URL": sts.baseURL],
                httpClient: client, logger: Logger(label: "test"))
            let error = await #expect(throws: CredentialError.self) { try await denied.credentials() }
            #expect(error?.code == .retrievalFailed)
            #expect(error?.description == "web identity: STS: AssumeRoleWithWebIdentity failed with HTTP 403 AccessDenied: "
                + "Not authorized to perform sts:AssumeRole & more")
        }
        await sts.shutdown()
        #expect(sts.requests.first?.form["RoleSessionName"] == "stepworker-1800000000000")
    }

    @Test func webIdentityNeedsBothVariables() async throws {
        try await withHTTPClient { client in
            let none = await #expect(throws: CredentialError.self) {
                try await WebIdentityCredentialProvider(environment: [:], httpClient: client, logger: Logger(label: "test")).credentials()
            }
            #expect(none == .notConfigured("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE not set"))
            let half = await #expect(throws: CredentialError.self) {
                try await WebIdentityCredentialProvider(
                    environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/x"], httpClient: client, logger: Logger(label: "test")).credentials()
            }
            #expect(half?.code == .invalidConfiguration)
        }
    }

    @Test func assumeRoleSignsWithTheSourceProfileAndHonoursItsSettings() async throws {
        let sts = try await Self.sts()
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write(".aws/credentials", "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base/secret+key\n")
        try home.write(".aws/config", """
            [profile worker]
            region = eu-west-1
            role_arn = arn:aws:iam::123456789012:role/worker
            source_profile = base
            role_session_name = worker-session
            external_id = ext-123
            duration_seconds = 900
            """)
        let clock = TestClock()
        let credentials = try await withHTTPClient { client in
            try await SharedFilesCredentialProvider(
                profile: "worker", environment: ["HOME": home.path, "AWS_ENDPOINT_URL_STS": sts.baseURL], httpClient: client,
                logger: Logger(label: "test"), now: clock.function
            ).credentials()
        }
        await sts.shutdown()
        #expect(credentials.accessKeyID == "ASIA-worker")
        #expect(credentials.sessionToken == TestSecrets.sessionToken)
        let request = try #require(sts.requests.first)
        #expect(sts.requests.count == 1)
        #expect(request.form == [
            "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::123456789012:role/worker",
            "RoleSessionName": "worker-session", "ExternalId": "ext-123", "DurationSeconds": "900",
        ])
        Self.expectSigned(request, with: AWSCredentials(accessKeyID: "AKIABASE", secretAccessKey: "base/secret+key"),
                          region: "eu-west-1", at: clock.now)
    }

    @Test func chainedSourceProfilesSignEachHopWithThePreviousRolesCredentials() async throws {
        let sts = try await Self.sts()
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write(".aws/config", """
            [profile base]
            aws_access_key_id = AKIABASE
            aws_secret_access_key = base-secret
            [profile middle]
            role_arn = arn:aws:iam::1:role/middle
            source_profile = base
            [profile top]
            role_arn = arn:aws:iam::1:role/top
            source_profile = middle
            """)
        let clock = TestClock()
        let credentials = try await withHTTPClient { client in
            try await SharedFilesCredentialProvider(
                profile: "top", environment: ["HOME": home.path, "AWS_ENDPOINT_URL_STS": sts.baseURL, "AWS_REGION": "us-west-2"],
                httpClient: client, logger: Logger(label: "test"), now: clock.function
            ).credentials()
        }
        await sts.shutdown()
        #expect(credentials.accessKeyID == "ASIA-top")
        let requests = sts.requests
        #expect(requests.map { $0.form["RoleArn"] } == ["arn:aws:iam::1:role/middle", "arn:aws:iam::1:role/top"])
        #expect(requests[0].form["RoleSessionName"] == "stepworker-\(Int64(clock.now.timeIntervalSince1970 * 1000))")
        Self.expectSigned(requests[0], with: AWSCredentials(accessKeyID: "AKIABASE", secretAccessKey: "base-secret"),
                          region: "us-west-2", at: clock.now)
        Self.expectSigned(requests[1], with: AWSCredentials(
            accessKeyID: "ASIA-middle", secretAccessKey: TestSecrets.secretKey, sessionToken: TestSecrets.sessionToken),
                          region: "us-west-2", at: clock.now)
    }

    @Test func profilesMayUseAWebIdentityTokenFileOrBeTheirOwnSource() async throws {
        let sts = try await Self.sts()
        let home = try TempDirectory()
        defer { home.remove() }
        let tokenFile = try home.write("token", "profile-jwt\n")
        try home.write(".aws/config", """
            [profile web]
            role_arn = arn:aws:iam::1:role/profileweb
            web_identity_token_file = \(tokenFile)
            role_session_name = s1
            [profile self]
            role_arn = arn:aws:iam::1:role/self
            source_profile = self
            aws_access_key_id = AKIASELF
            aws_secret_access_key = self-secret
            """)
        let clock = TestClock()
        let ids = try await withHTTPClient { client in
            var ids: [String] = []
            for profile in ["web", "self"] {
                ids.append(try await SharedFilesCredentialProvider(
                    profile: profile, environment: ["HOME": home.path, "AWS_ENDPOINT_URL_STS": sts.baseURL], httpClient: client,
                    logger: Logger(label: "test"), now: clock.function
                ).credentials().accessKeyID)
            }
            return ids
        }
        await sts.shutdown()
        #expect(ids == ["ASIA-profileweb", "ASIA-self"])
        let requests = sts.requests
        #expect(requests.count == 2)
        #expect(requests[0].form["Action"] == "AssumeRoleWithWebIdentity")
        #expect(requests[0].form["WebIdentityToken"] == "profile-jwt")
        #expect(requests[0].form["RoleSessionName"] == "s1")
        #expect(requests[0].header("Authorization") == nil)
        Self.expectSigned(requests[1], with: AWSCredentials(accessKeyID: "AKIASELF", secretAccessKey: "self-secret"),
                          region: "us-east-1", at: clock.now)
    }

    @Test func regionalEndpointAndOverrides() throws {
        func endpoint(_ region: String?, _ environment: [String: String] = [:]) throws -> String {
            // The client is never used to send here.
            try STSClient(http: CredentialHTTP(client: HTTP1Client()), region: region, environment: environment,
                          now: { Date() }, logger: Logger(label: "test")).endpoint().url
        }
        #expect(try endpoint("eu-west-1") == "https://sts.eu-west-1.amazonaws.com/")
        #expect(try endpoint("cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn/")
        #expect(try endpoint(nil) == "https://sts.amazonaws.com/")
        #expect(try endpoint("eu-west-1", ["AWS_ENDPOINT_URL": "http://127.0.0.1:9/"]) == "http://127.0.0.1:9/")
        #expect(try endpoint("eu-west-1", ["AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_STS": "http://b:2"]) == "http://b:2/")
    }

    @Test func xmlExtractionDecodesEntitiesAndCDATA() throws {
        let body = Data("""
            <?xml version="1.0"?><r:AssumeRoleResponse xmlns:r="x"><r:AssumeRoleResult><r:Credentials>
            <r:AccessKeyId>AKIA&amp;1</r:AccessKeyId><r:SecretAccessKey><![CDATA[a<b&c]]></r:SecretAccessKey>
            <r:SessionToken>t&#43;&#x2F;&lt;&gt;&quot;&apos;</r:SessionToken><r:Expiration>2027-01-15T10:00:00.5Z</r:Expiration>
            </r:Credentials></r:AssumeRoleResult></r:AssumeRoleResponse>
            """.utf8)
        let credentials = try STSResponse.credentials(from: body, operation: "AssumeRole")
        #expect(credentials.accessKeyID == "AKIA&1")
        #expect(credentials.secretAccessKey == "a<b&c")
        #expect(credentials.sessionToken == "t+/<>\"'")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_800_007_200.5))
        #expect(throws: CredentialError.self) { try STSResponse.credentials(from: Data("<x/>".utf8), operation: "AssumeRole") }
    }
}
