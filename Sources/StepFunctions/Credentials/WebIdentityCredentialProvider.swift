public import FoundationEssentials
public import Logging
import POSIXSupport

/// EKS service accounts (IRSA) and other OIDC federation: `AWS_WEB_IDENTITY_TOKEN_FILE` and
/// `AWS_ROLE_ARN` (and optionally `AWS_ROLE_SESSION_NAME`), exchanged with STS
/// `AssumeRoleWithWebIdentity`. The token file is read again on every fetch, since the
/// platform rotates it.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public static let sourceName = "web identity"
    private let environment: [String: String]
    private let sts: STSClient

    /// `region` picks the regional STS endpoint; nil uses `AWS_REGION`/`AWS_DEFAULT_REGION`, else
    /// the global one.
    public init(
        environment: [String: String], httpClient: HTTP1Client, region: String? = nil, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.environment = environment
        let region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
        self.sts = STSClient(http: CredentialHTTP(client: httpClient), region: region, environment: environment, now: now, logger: logger)
    }

    public func credentials() async throws -> AWSCredentials {
        try await load()
    }

    func load() async throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let roleARN = environment["AWS_ROLE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        switch (tokenFile, roleARN) {
        case (nil, nil):
            throw .notConfigured(source, "AWS_WEB_IDENTITY_TOKEN_FILE not set")
        case (nil, _):
            throw .notConfigured(source, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not")
        case (_, nil):
            throw .invalid(source, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        case (let tokenFile?, let roleARN?):
            let sessionName = environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            return try await Self.assume(roleARN: roleARN, tokenFile: tokenFile, sessionName: sessionName, sts: sts, source: source)
        }
    }

    /// Shared with profiles that name a `web_identity_token_file`.
    static func assume(
        roleARN: String, tokenFile: String, sessionName: String?, sts: STSClient, source: String
    ) async throws(CredentialError) -> AWSCredentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw .failed(source, "cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingWhitespace()
        guard !token.isEmpty else { throw .failed(source, "the web identity token file \(tokenFile) is empty") }
        do {
            return try await sts.assumeRoleWithWebIdentity(
                roleARN: roleARN, sessionName: sessionName ?? STSClient.generatedSessionName(now: sts.now()), token: String(token))
        } catch {
            throw CredentialError(error.code, source: source, error.description)
        }
    }
}
