/// Where credentials come from: static keys, a file, a metadata service, a chain of these.
public protocol CredentialProvider: Sendable {
    /// Credentials valid now. Providers of temporary credentials cache and refresh them.
    func credentials() async throws -> AWSCredentials
}
