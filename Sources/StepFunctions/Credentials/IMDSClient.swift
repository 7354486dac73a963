public import FoundationEssentials
public import Logging
import NIOHTTP1

/// The EC2 instance metadata service, IMDSv2 first.
///
/// A session token comes from `PUT /latest/api/token` (`X-aws-ec2-metadata-token-ttl-seconds:
/// 21600`) and is sent as `X-aws-ec2-metadata-token` until shortly before its TTL ends. Only
/// when that PUT answers 403, 404 or 405 (IMDSv1-only hosts, some proxies) are requests sent
/// without a token, as the SDKs do. The endpoint is `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else
/// `http://169.254.169.254`; `AWS_EC2_METADATA_DISABLED=true` turns it off. Every call has a
/// short deadline so a host off EC2 is not held up.
public actor IMDSClient {
    public static let defaultEndpoint = "http://169.254.169.254"
    public static let tokenTTLSeconds = 21_600
    /// A token is replaced this long before its TTL ends.
    static let tokenRenewMargin: TimeInterval = 300
    /// The deadline of each call, as the SDKs use: short, so a host off EC2 is not held up.
    public static let defaultTimeout: Duration = .seconds(1)

    public struct Response: Sendable {
        public var status: Int
        public var body: Data
    }

    public nonisolated let endpoint: String
    public nonisolated let isDisabled: Bool
    private let http: CredentialHTTP
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let timeout: Duration
    private var token: (value: String, renewAt: Date)?

    public init(
        environment: [String: String], httpClient: HTTP1Client, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, timeout: Duration = IMDSClient.defaultTimeout
    ) {
        var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultEndpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.isDisabled = environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
        self.http = CredentialHTTP(client: httpClient)
        self.logger = logger
        self.now = now
        self.timeout = timeout
    }

    /// `GET path` with a session token when IMDSv2 is available. Throws `CredentialError` with
    /// code `notConfigured` when the service cannot be reached or is disabled.
    public func get(_ path: String, source: String) async throws(CredentialError) -> Response {
        guard !isDisabled else { throw .notConfigured(source, "AWS_EC2_METADATA_DISABLED is true") }
        var sessionToken = try await currentToken(source: source)
        var response = try await send(.GET, path, token: sessionToken, source: source)
        if response.status == 401, sessionToken != nil {
            // The token expired or the instance was restarted: fetch a new one once.
            token = nil
            sessionToken = try await currentToken(source: source)
            response = try await send(.GET, path, token: sessionToken, source: source)
        }
        return response
    }

    /// A valid session token, nil when the service only speaks IMDSv1.
    private func currentToken(source: String) async throws(CredentialError) -> String? {
        if let token, now() < token.renewAt { return token.value }
        let requestedAt = now()
        let response: CredentialHTTP.Response
        do {
            response = try await http.send(
                .PUT, endpoint + "/latest/api/token",
                headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))], timeout: timeout)
        } catch {
            throw .notConfigured(source, "\(endpoint): \(CredentialHTTP.describe(error))")
        }
        switch response.status {
        case 200:
            let value = String(decoding: response.body, as: UTF8.self)
            guard !value.isEmpty else { throw .failed(source, "\(endpoint) answered an empty session token") }
            token = (value, requestedAt.addingTimeInterval(TimeInterval(Self.tokenTTLSeconds) - Self.tokenRenewMargin))
            logger.trace("IMDS session token obtained")
            return value
        case 403, 404, 405:
            logger.debug("IMDS token request refused; falling back to IMDSv1", metadata: ["status": "\(response.status)"])
            return nil
        default:
            throw .failed(source, "\(endpoint) answered HTTP \(response.status) to the session token request")
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, token: String?, source: String) async throws(CredentialError) -> Response {
        let headers = token.map { [("X-aws-ec2-metadata-token", $0)] } ?? []
        do {
            let response = try await http.send(method, endpoint + path, headers: headers, timeout: timeout)
            logger.trace("IMDS answered", metadata: ["path": "\(path)", "status": "\(response.status)"])
            return Response(status: response.status, body: response.body)
        } catch {
            throw .notConfigured(source, "\(endpoint): \(CredentialHTTP.describe(error))")
        }
    }
}
