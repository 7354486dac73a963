import Foundation
import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct RegionResolverTests {
    @Test func explicitThenEnvironmentThenProfileThenIMDS() async throws {
        let imds = try await IMDSCredentialProviderTests.imds()
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write(".aws/config", "[default]\nregion = eu-central-1\n[profile worker]\nregion = ca-central-1\n")
        var environment = [
            "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-east-2", "HOME": home.path,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.baseURL,
        ]
        var resolved: [String] = []
        try await withHTTPClient { client in
            func resolve(_ explicit: String? = nil, profile: String? = nil) async throws -> String {
                try await RegionResolver.resolve(
                    explicit: explicit, profile: profile, environment: environment, httpClient: client, imdsTimeout: standInTimeout)
            }
            resolved.append(try await resolve("eu-west-1"))
            resolved.append(try await resolve())
            environment["AWS_REGION"] = nil
            resolved.append(try await resolve())
            environment["AWS_DEFAULT_REGION"] = nil
            resolved.append(try await resolve())
            resolved.append(try await resolve(profile: "worker"))
            environment["AWS_PROFILE"] = "worker"
            resolved.append(try await resolve())
            environment["HOME"] = "/nonexistent"
            resolved.append(try await resolve())
        }
        await imds.shutdown()
        #expect(resolved == ["eu-west-1", "us-west-2", "us-east-2", "eu-central-1", "ca-central-1", "ca-central-1", "ap-south-1"])
        #expect(imds.requests.map(\.uri) == ["/latest/api/token", "/latest/meta-data/placement/region"])
    }

    @Test func noRegionIsAClearError() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        let error = await #expect(throws: CredentialError.self) {
            try await withHTTPClient { client in
                try await RegionResolver.resolve(
                    explicit: nil, profile: nil, environment: ["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"], httpClient: client)
            }
        }
        #expect(error?.code == .noRegion)
        #expect(error?.description == "no AWS region found; set aws.region in the config or AWS_REGION (tried config: no region; "
            + "AWS_REGION not set; AWS_DEFAULT_REGION not set; profile 'default' has no region in \(home.path)/.aws/config; "
            + "IMDS: AWS_EC2_METADATA_DISABLED is true)")
    }
}
