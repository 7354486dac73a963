import FoundationEssentials
import Logging
import POSIXSupport

/// The EC2 instance profile's role, from IMDS: the role name from
/// `/latest/meta-data/iam/security-credentials/`, then that role's JSON document.
public struct IMDSCredentialProvider: CredentialProvider {
    public static let sourceName = "IMDS"
    static let credentialsPath = "/latest/meta-data/iam/security-credentials/"
    private let client: IMDSClient

    public init(client: IMDSClient) {
        self.client = client
    }

    public func credentials() async throws -> AWSCredentials {
        try await load()
    }

    func load() async throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        let list = try await client.get(Self.credentialsPath, source: source)
        switch list.status {
        case 200: break
        case 404: throw .notConfigured(source, "no instance profile role at \(client.endpoint) (HTTP 404)")
        default: throw .failed(source, "\(client.endpoint) answered HTTP \(list.status) for the role name")
        }
        guard let role = String(decoding: list.body, as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map({ String($0.trimmingWhitespace()) }), !role.isEmpty
        else {
            throw .notConfigured(source, "no instance profile role at \(client.endpoint)")
        }
        let document = try await client.get(Self.credentialsPath + PercentEncoding.encode(role), source: source)
        guard document.status == 200 else {
            throw .failed(source, "\(client.endpoint) answered HTTP \(document.status) for role \(role)")
        }
        return try MetadataCredentialsDocument.decode(document.body, source: source)
    }
}
