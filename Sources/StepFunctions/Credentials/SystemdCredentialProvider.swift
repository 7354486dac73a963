import FoundationEssentials

/// systemd credentials (`LoadCredential=`, `SetCredentialEncrypted=`): the files
/// `aws-access-key-id`, `aws-secret-access-key` and optionally `aws-session-token` in
/// `$CREDENTIALS_DIRECTORY`. One trailing newline is trimmed from each.
public struct SystemdCredentialProvider: CredentialProvider {
    public static let sourceName = "systemd credentials"
    public static let accessKeyFile = "aws-access-key-id"
    public static let secretKeyFile = "aws-secret-access-key"
    public static let sessionTokenFile = "aws-session-token"
    private let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func credentials() async throws -> AWSCredentials {
        try load()
    }

    func load() throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
            throw .notConfigured(source, "CREDENTIALS_DIRECTORY not set")
        }
        let keyID = try read(directory, Self.accessKeyFile)
        let secret = try read(directory, Self.secretKeyFile)
        switch (keyID, secret) {
        case (nil, nil):
            throw .notConfigured(source, "no \(Self.accessKeyFile) in \(directory)")
        case (nil, _):
            throw .invalid(source, "\(Self.secretKeyFile) is present but \(Self.accessKeyFile) is not, in \(directory)")
        case (_, nil):
            throw .invalid(source, "\(Self.accessKeyFile) is present but \(Self.secretKeyFile) is not, in \(directory)")
        case (let keyID?, let secret?):
            let token = try read(directory, Self.sessionTokenFile)
            return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
        }
    }

    /// The file's text without one trailing newline; nil when it is absent or empty.
    private func read(_ directory: String, _ name: String) throws(CredentialError) -> String? {
        let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .failed(Self.sourceName, "cannot read \(path)")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw .invalid(Self.sourceName, "\(path) is not UTF-8")
        }
        // "\r\n" is one Character in Swift, so one removeLast() trims either ending.
        if text.hasSuffix("\n") || text.hasSuffix("\r\n") { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}
