public import FoundationEssentials
public import Logging
import POSIXSupport

/// The region, as the SDKs find it: the config's, `AWS_REGION`, `AWS_DEFAULT_REGION`, the
/// profile's `region` in the shared config file, then IMDS `placement/region`.
public enum RegionResolver {
    public static func resolve(
        explicit: String?, profile: String?, environment: [String: String], httpClient: HTTP1Client,
        logger: Logger = Logger(label: "stepworker.region"), now: @escaping @Sendable () -> Date = { Date() },
        imdsTimeout: Duration = IMDSClient.defaultTimeout
    ) async throws -> String {
        var reasons: [String] = []
        if let explicit, !explicit.isEmpty { return explicit }
        reasons.append("config: no region")
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[name], !value.isEmpty { return value }
            reasons.append("\(name) not set")
        }
        let profileName = SharedFilesCredentialProvider.profileName(profile, environment: environment)
        do {
            let files = try SharedConfigFiles.load(environment: environment, source: "shared files")
            if let region = files.profile(profileName)?["region"], !region.isEmpty { return region }
            reasons.append("profile '\(profileName)' has no region in \(files.configPath)")
        } catch {
            reasons.append(error.description)
        }
        let imds = IMDSClient(environment: environment, httpClient: httpClient, logger: logger, now: now, timeout: imdsTimeout)
        do {
            let response = try await imds.get("/latest/meta-data/placement/region", source: "IMDS")
            let region = String(decoding: response.body, as: UTF8.self).trimmingWhitespace()
            if response.status == 200, !region.isEmpty { return String(region) }
            reasons.append("IMDS: HTTP \(response.status) for placement/region")
        } catch {
            reasons.append(error.description)
        }
        throw CredentialError(.noRegion, "no AWS region found; set aws.region in the config or AWS_REGION (tried "
            + reasons.joined(separator: "; ") + ")")
    }
}
