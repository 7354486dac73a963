public import FoundationEssentials
public import Logging

/// Asks each source in turn; the first with credentials wins.
///
/// A source that is not set up on this host (`CredentialError.Code.notConfigured`) passes to the
/// next one. A source that is set up but fails stops the chain with its error, rather than
/// quietly falling through to different credentials. When none has credentials, the error lists
/// every source and why it gave nothing.
public struct CredentialProviderChain: CredentialProvider {
    public struct Link: Sendable {
        public var name: String
        public var provider: any CredentialProvider

        public init(_ name: String, _ provider: any CredentialProvider) {
            self.name = name
            self.provider = provider
        }
    }

    public let links: [Link]
    private let logger: Logger

    public init(_ links: [Link], logger: Logger) {
        self.links = links
        self.logger = logger
    }

    public func credentials() async throws -> AWSCredentials {
        var reasons: [String] = []
        for link in links {
            do {
                let found = try await link.provider.credentials()
                logger.debug("Credentials found", metadata: ["source": "\(link.name)", "access_key_id": "\(found.accessKeyID)"])
                return found
            } catch let error as CredentialError where error.code == .notConfigured {
                logger.trace("Credential source has nothing", metadata: ["source": "\(link.name)", "reason": "\(error.message)"])
                reasons.append("\(link.name): \(error.message)")
            } catch let error as CredentialError {
                throw error
            } catch {
                throw CredentialError(.retrievalFailed, source: link.name, "\(error)")
            }
        }
        throw CredentialError(.noCredentials, "no AWS credentials found; tried " + reasons.joined(separator: "; "))
    }

    /// The sources in the AWS SDKs' order: environment, systemd credentials, web identity,
    /// shared files (profile), container endpoint, EC2 IMDS.
    public static func defaultLinks(
        profile: String?, region: String? = nil, environment: [String: String], httpClient: HTTP1Client, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        containerRelativeBaseURL: String = ContainerCredentialProvider.defaultRelativeBaseURL
    ) -> [Link] {
        [
            Link(EnvironmentCredentialProvider.sourceName, EnvironmentCredentialProvider(environment: environment)),
            Link(SystemdCredentialProvider.sourceName, SystemdCredentialProvider(environment: environment)),
            Link(WebIdentityCredentialProvider.sourceName, WebIdentityCredentialProvider(
                environment: environment, httpClient: httpClient, region: region, logger: logger, now: now)),
            Link(SharedFilesCredentialProvider.sourceName, SharedFilesCredentialProvider(
                profile: profile, environment: environment, httpClient: httpClient, region: region, logger: logger, now: now)),
            Link(ContainerCredentialProvider.sourceName, ContainerCredentialProvider(
                environment: environment, httpClient: httpClient, logger: logger, relativeBaseURL: containerRelativeBaseURL)),
            Link(IMDSCredentialProvider.sourceName, IMDSCredentialProvider(
                client: IMDSClient(environment: environment, httpClient: httpClient, logger: logger, now: now))),
        ]
    }

    /// What the daemon uses: the default chain behind a cache that refreshes temporary
    /// credentials ahead of expiry. `profile` and `region` come from the config (nil when unset).
    /// `containerRelativeBaseURL` is for tests only.
    public static func `default`(
        profile: String?, region: String? = nil, environment: [String: String], httpClient: HTTP1Client, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        containerRelativeBaseURL: String = ContainerCredentialProvider.defaultRelativeBaseURL
    ) -> any CredentialProvider {
        let chain = CredentialProviderChain(
            defaultLinks(profile: profile, region: region, environment: environment, httpClient: httpClient, logger: logger,
                         now: now, containerRelativeBaseURL: containerRelativeBaseURL),
            logger: logger)
        return CachingCredentialProvider(wrapping: chain, logger: logger, now: now)
    }
}
