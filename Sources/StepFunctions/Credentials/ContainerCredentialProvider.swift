import NIOHTTP1
import FoundationEssentials
public import Logging
import POSIXSupport

/// The ECS task role and EKS Pod Identity endpoint.
///
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is fetched from `http://169.254.170.2`;
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` must be https, or http to a loopback address,
/// `169.254.170.2`, `169.254.170.23` or `fd00:ec2::23` (the SDKs' rule). The `Authorization`
/// header is the content of `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read each fetch), else
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`. The answer is JSON: `AccessKeyId`, `SecretAccessKey`,
/// `Token`, `Expiration`.
public struct ContainerCredentialProvider: CredentialProvider {
    public static let sourceName = "container"
    public static let defaultRelativeBaseURL = "http://169.254.170.2"
    static let allowedHTTPHosts: Set<String> = ["localhost", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]

    private let environment: [String: String]
    private let http: CredentialHTTP
    private let logger: Logger
    private let relativeBaseURL: String
    private let timeout: Duration

    /// `relativeBaseURL` exists for tests (the SDKs have no variable for it): leave the default.
    public init(
        environment: [String: String], httpClient: HTTP1Client, logger: Logger,
        relativeBaseURL: String = Self.defaultRelativeBaseURL, timeout: Duration = .seconds(2)
    ) {
        self.environment = environment
        self.http = CredentialHTTP(client: httpClient)
        self.logger = logger
        self.relativeBaseURL = relativeBaseURL
        self.timeout = timeout
    }

    public func credentials() async throws -> AWSCredentials {
        try await load()
    }

    func load() async throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        let url = try resolveURL()
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let authorization = try authorization() { headers.append(("Authorization", authorization)) }
        logger.debug("Fetching container credentials", metadata: ["url": "\(url)"])
        let response: CredentialHTTP.Response
        do {
            response = try await http.send(.GET, url, headers: headers, timeout: timeout)
        } catch {
            throw .failed(source, "\(url): \(CredentialHTTP.describe(error))")
        }
        guard response.status == 200 else { throw .failed(source, "\(url) answered HTTP \(response.status)") }
        return try MetadataCredentialsDocument.decode(response.body, source: source)
    }

    func resolveURL() throws(CredentialError) -> String {
        let source = Self.sourceName
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            let base = relativeBaseURL.hasSuffix("/") ? String(relativeBaseURL.dropLast()) : relativeBaseURL
            return base + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty else {
            throw .notConfigured(source, "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI set")
        }
        let endpoint: Endpoint
        do {
            endpoint = try EndpointResolver.parse(url: full, source: "AWS_CONTAINER_CREDENTIALS_FULL_URI", signingRegion: "")
        } catch {
            throw .invalid(source, error.description)
        }
        guard endpoint.scheme == "https" || Self.isAllowedHTTPHost(endpoint.host.lowercased()) else {
            throw .invalid(source, "AWS_CONTAINER_CREDENTIALS_FULL_URI host \(endpoint.host) is not allowed over http "
                + "(only loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23; or use https)")
        }
        return full
    }

    static func isAllowedHTTPHost(_ host: String) -> Bool {
        if allowedHTTPHosts.contains(host) || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    private func authorization() throws(CredentialError) -> String? {
        var token: String?
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw .failed(Self.sourceName, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            token = String(String(decoding: data, as: UTF8.self).trimmingWhitespace())
        } else if let value = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !value.isEmpty {
            token = value
        }
        if let token, token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
            throw .invalid(Self.sourceName, "the container authorization token contains a line break")
        }
        return token
    }
}

/// The JSON the container endpoint and IMDS answer with.
enum MetadataCredentialsDocument {
    static func decode(_ body: Data, source: String) throws(CredentialError) -> AWSCredentials {
        struct Document: Decodable {
            var code: String?
            var accessKeyID: String?
            var secretAccessKey: String?
            var token: String?
            var expiration: String?
            enum CodingKeys: String, CodingKey {
                case code = "Code", accessKeyID = "AccessKeyId", secretAccessKey = "SecretAccessKey"
                case token = "Token", expiration = "Expiration"
            }
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: body) else {
            throw .failed(source, "the answer is not a JSON credentials document (\(body.count) bytes, not shown)")
        }
        if let code = document.code, code != "Success" {
            throw .failed(source, "the answer's Code is \(code)")
        }
        guard let keyID = document.accessKeyID, !keyID.isEmpty, let secret = document.secretAccessKey, !secret.isEmpty else {
            throw .failed(source, "the answer lacks AccessKeyId or SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.expiration {
            guard let date = ISO8601Timestamp.parse(text) else {
                throw .failed(source, "the answer's Expiration is not an ISO 8601 time")
            }
            expiration = date
        }
        return AWSCredentials(
            accessKeyID: keyID, secretAccessKey: secret, sessionToken: document.token.flatMap { $0.isEmpty ? nil : $0 },
            expiration: expiration
        )
    }
}
