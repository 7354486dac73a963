public import FoundationEssentials
public import Logging

/// A profile of the shared `credentials` and `config` files.
///
/// The profile is the caller's, else `AWS_PROFILE`, else `default`. Within a profile:
/// 1. `role_arn` with `source_profile` (STS `AssumeRole`, signed with the source profile's
///    credentials, which may themselves come from a role: chains are followed, cycles refused;
///    `role_session_name`, `external_id` and `duration_seconds` honoured), or `role_arn` with
///    `web_identity_token_file` (STS `AssumeRoleWithWebIdentity`);
/// 2. `aws_access_key_id` and `aws_secret_access_key` (and `aws_session_token`);
/// 3. `credential_process`.
///
/// A missing `default` profile means "not configured"; a profile asked for by name that is
/// missing is an error, as in the SDKs.
public struct SharedFilesCredentialProvider: CredentialProvider {
    public static let sourceName = "shared files"
    private let profile: String?
    private let environment: [String: String]
    private let region: String?
    private let httpClient: HTTP1Client
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// `region` picks the regional STS endpoint for roles; nil uses `AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, then the profile's `region`, else the global endpoint.
    public init(
        profile: String?, environment: [String: String], httpClient: HTTP1Client, region: String? = nil, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.profile = profile
        self.environment = environment
        self.region = region
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
    }

    /// The profile used: the caller's, else `AWS_PROFILE`, else `default`.
    public static func profileName(_ explicit: String?, environment: [String: String]) -> String {
        explicit.flatMap { $0.isEmpty ? nil : $0 } ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
    }

    public func credentials() async throws -> AWSCredentials {
        try await load()
    }

    func load() async throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        let name = Self.profileName(profile, environment: environment)
        let files = try SharedConfigFiles.load(environment: environment, source: source)
        guard let settings = files.profile(name) else {
            let message = "profile '\(name)' not found in \(files.credentialsPath), \(files.configPath)"
            throw name == "default" ? .notConfigured(source, message) : .invalid(source, message)
        }
        let region = self.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? settings["region"]
        let sts = STSClient(http: CredentialHTTP(client: httpClient), region: region, environment: environment, now: now, logger: logger)
        return try await resolve(name, settings, files: files, sts: sts, visited: [])
    }

    private func resolve(
        _ name: String, _ settings: [String: String], files: SharedConfigFiles, sts: STSClient, visited: [String]
    ) async throws(CredentialError) -> AWSCredentials {
        let source = Self.sourceName
        if let roleARN = settings["role_arn"], !roleARN.isEmpty {
            if let tokenFile = settings["web_identity_token_file"], !tokenFile.isEmpty {
                return try await WebIdentityCredentialProvider.assume(
                    roleARN: roleARN, tokenFile: tokenFile, sessionName: settings["role_session_name"], sts: sts,
                    source: "\(source) (profile '\(name)')")
            }
            guard let sourceName = settings["source_profile"], !sourceName.isEmpty else {
                let other = settings["credential_source"] != nil ? "credential_source is not supported; use source_profile" : "it has no source_profile"
                throw .invalid(source, "profile '\(name)' has role_arn but \(other)")
            }
            let path = visited + [name]
            let sourceCredentials: AWSCredentials
            if sourceName == name {
                // A profile may be its own source when it holds static keys.
                guard let keys = try Self.staticKeys(name, settings) else {
                    throw .invalid(source, "profile '\(name)' is its own source_profile but has no aws_access_key_id")
                }
                sourceCredentials = keys
            } else {
                guard !path.contains(sourceName) else {
                    throw .invalid(source, "source_profile cycle: \((path + [sourceName]).joined(separator: " -> "))")
                }
                guard let sourceSettings = files.profile(sourceName) else {
                    throw .invalid(source, "profile '\(name)' names source_profile '\(sourceName)', which is not found in "
                        + "\(files.credentialsPath), \(files.configPath)")
                }
                sourceCredentials = try await resolve(sourceName, sourceSettings, files: files, sts: sts, visited: path)
            }
            var duration: Int?
            if let text = settings["duration_seconds"] {
                guard let value = Int(text), value > 0 else {
                    throw .invalid(source, "profile '\(name)' has duration_seconds '\(text)', not a positive integer")
                }
                duration = value
            }
            logger.debug("Assuming role for profile", metadata: ["profile": "\(name)", "role_arn": "\(roleARN)"])
            do {
                return try await sts.assumeRole(
                    roleARN: roleARN, sessionName: settings["role_session_name"] ?? STSClient.generatedSessionName(now: now()),
                    externalID: settings["external_id"], durationSeconds: duration, source: sourceCredentials)
            } catch {
                throw CredentialError(error.code, source: source, "profile '\(name)': \(error.description)")
            }
        }
        if let keys = try Self.staticKeys(name, settings) { return keys }
        if let command = settings["credential_process"], !command.isEmpty {
            logger.debug("Running credential_process", metadata: ["profile": "\(name)"])
            do {
                return try await CredentialProcess(commandLine: command, environment: environment).run()
            } catch {
                throw CredentialError(error.code, source: source, "profile '\(name)': \(error.description)")
            }
        }
        throw visited.isEmpty
            ? .notConfigured(source, "profile '\(name)' has no credentials (no keys, credential_process or role_arn)")
            : .invalid(source, "source profile '\(name)' has no credentials (no keys, credential_process or role_arn)")
    }

    private static func staticKeys(_ name: String, _ settings: [String: String]) throws(CredentialError) -> AWSCredentials? {
        let keyID = settings["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = settings["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (keyID, secret) {
        case (nil, nil): return nil
        case (let keyID?, let secret?):
            let token = settings["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
        default:
            throw .invalid(sourceName, "profile '\(name)' has only one of aws_access_key_id and aws_secret_access_key")
        }
    }
}
