import FoundationEssentials
import Logging
import NIOHTTP1

/// The two STS calls credentials need, in the query protocol (form POST, XML answer):
/// `AssumeRole` (SigV4-signed, service `sts`) and `AssumeRoleWithWebIdentity` (unsigned).
///
/// Endpoint: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else `https://sts.<region>.amazonaws.com`
/// (the global `https://sts.amazonaws.com`, signed for us-east-1, when no region is known).
struct STSClient: Sendable {
    static let apiVersion = "2011-06-15"
    var http: CredentialHTTP
    var region: String?
    var environment: [String: String]
    var now: @Sendable () -> Date
    var logger: Logger
    var timeout: Duration = .seconds(10)

    func endpoint() throws(CredentialError) -> Endpoint {
        let signingRegion = region ?? "us-east-1"
        for name in ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"] {
            if let url = environment[name], !url.isEmpty {
                do {
                    return try EndpointResolver.parse(url: url, source: name, signingRegion: signingRegion)
                } catch {
                    throw .invalid("STS", error.description)
                }
            }
        }
        let host = region.map { "sts.\($0).\(Self.dnsSuffix(region: $0))" } ?? "sts.amazonaws.com"
        return Endpoint(scheme: "https", host: host, signingRegion: signingRegion)
    }

    static func dnsSuffix(region: String) -> String {
        EndpointResolver.partitions.first { region.hasPrefix($0.regionPrefix) }?.dnsSuffix ?? "amazonaws.com"
    }

    func assumeRole(
        roleARN: String, sessionName: String, externalID: String?, durationSeconds: Int?, source: AWSCredentials
    ) async throws(CredentialError) -> AWSCredentials {
        var parameters = [("Action", "AssumeRole"), ("Version", Self.apiVersion), ("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return try await call("AssumeRole", parameters, signWith: source)
    }

    func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String) async throws(CredentialError) -> AWSCredentials {
        let parameters = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", Self.apiVersion), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ]
        return try await call("AssumeRoleWithWebIdentity", parameters, signWith: nil)
    }

    private func call(
        _ operation: String, _ parameters: [(String, String)], signWith credentials: AWSCredentials?
    ) async throws(CredentialError) -> AWSCredentials {
        let endpoint = try endpoint()
        let body = Array(Self.formEncode(parameters).utf8)
        var request = SigningRequest(
            method: "POST", path: endpoint.path,
            headers: [.init(name: "Host", value: endpoint.hostHeader),
                      .init(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")],
            body: body
        )
        if let credentials {
            SigV4Signer(service: "sts", region: endpoint.signingRegion).sign(&request, credentials: credentials, date: now())
        }
        logger.debug("Calling STS", metadata: ["operation": "\(operation)", "endpoint": "\(endpoint.url)"])
        let response: CredentialHTTP.Response
        do {
            response = try await http.send(
                .POST, endpoint.url, headers: request.headers.map { ($0.name, $0.value) }, body: body, timeout: timeout)
        } catch {
            throw .failed("STS", "\(operation) at \(endpoint.url): \(CredentialHTTP.describe(error))")
        }
        guard response.status == 200 else {
            if let error = STSResponse.error(from: response.body) {
                throw .failed("STS", "\(operation) failed with HTTP \(response.status) \(error.code): \(error.message)")
            }
            throw .failed("STS", "\(operation) failed with HTTP \(response.status)")
        }
        let result = try STSResponse.credentials(from: response.body, operation: operation)
        logger.debug("STS returned credentials", metadata: [
            "operation": "\(operation)", "access_key_id": "\(result.accessKeyID)",
            "expiration": "\(result.expiration.map { "\($0)" } ?? "none")",
        ])
        return result
    }

    /// `application/x-www-form-urlencoded` with RFC 3986 escaping (every byte but `A-Za-z0-9-._~`).
    static func formEncode(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(PercentEncoding.encode($0.0, keeping: ""))=\(PercentEncoding.encode($0.1, keeping: ""))" }
            .joined(separator: "&")
    }

    /// A session name the SDKs would accept: `[\w+=,.@-]{2,64}`.
    static func generatedSessionName(now: Date) -> String {
        "stepworker-\(Int64(now.timeIntervalSince1970 * 1000))"
    }
}
