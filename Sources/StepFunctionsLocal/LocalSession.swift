public import StepFunctions

/// A local endpoint with a signed `StepFunctionsClient` and a `LocalAdminClient` pointed at it,
/// set up and shut down together: what tests, benchmarks and tools that drive a worker against
/// the local endpoint need.
public struct LocalSession: Sendable {
    public let server: LocalEndpointServer
    public let httpClient: HTTP1Client
    public let client: StepFunctionsClient
    public let admin: LocalAdminClient

    /// Runs `body` with a session; everything is shut down afterwards, whether `body` throws or not.
    /// - Parameters:
    ///   - endpoint: the endpoint's configuration (its `credentials` are the ones it accepts).
    ///   - clientCredentials: what the client signs with; default: the endpoint's.
    ///   - configureClient: changes to the client's configuration (timeouts, retry policy).
    public static func with<T>(
        _ endpoint: LocalEndpointConfiguration,
        clientCredentials: AWSCredentials? = nil,
        connectTimeout: Duration = .seconds(10),
        configureClient: (inout StepFunctionsClient.Configuration) -> Void = { _ in },
        clock: any Clock<Duration> = ContinuousClock(),
        jitter: any JitterSource = SystemJitter(),
        _ body: (LocalSession) async throws -> T
    ) async throws -> T {
        let server = try await LocalEndpointServer.start(endpoint)
        let http = StepFunctionsClient.makeHTTPClient(connectTimeout: connectTimeout)
        do {
            var configuration = StepFunctionsClient.Configuration(
                endpoint: try EndpointResolver.resolve(.init(region: endpoint.region, endpoint: server.baseURL), environment: [:]))
            configureClient(&configuration)
            let credentials = clientCredentials ?? endpoint.credentials
                ?? AWSCredentials(accessKeyID: "AKIDLOCAL", secretAccessKey: "unchecked")
            let session = LocalSession(
                server: server, httpClient: http,
                client: StepFunctionsClient(
                    configuration: configuration, credentials: StaticCredentialProvider(credentials), httpClient: http,
                    clock: clock, jitter: jitter),
                admin: LocalAdminClient(baseURL: server.baseURL, httpClient: http))
            let result = try await body(session)
            try await http.shutdown()
            await server.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            await server.shutdown()
            throw error
        }
    }
}
