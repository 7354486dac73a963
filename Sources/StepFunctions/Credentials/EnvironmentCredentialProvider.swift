/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public static let sourceName = "environment"
    private let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func credentials() async throws -> AWSCredentials {
        try load()
    }

    func load() throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        let keyID = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyID, secret) {
        case (nil, nil):
            throw .notConfigured(source, "AWS_ACCESS_KEY_ID not set")
        case (nil, _):
            throw .invalid(source, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_, nil):
            throw .invalid(source, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (let keyID?, let secret?):
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
        }
    }
}
