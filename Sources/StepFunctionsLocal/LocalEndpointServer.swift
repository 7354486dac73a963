public import Logging
import StepFunctions

/// A local endpoint served over loopback HTTP: the service API at `POST /`, the admin API under
/// `/_local/`.
///
/// ```swift
/// let server = try await LocalEndpointServer.start(.init(pollDuration: .seconds(1)))
/// // … talk to server.baseURL, or to server.endpoint in-process …
/// await server.shutdown()
/// ```
public final class LocalEndpointServer: Sendable {
    public typealias Configuration = LocalEndpointConfiguration

    /// The state; tests may call it directly.
    public let endpoint: LocalEndpoint
    private let server: HTTPServer

    public var host: String { server.host }
    /// The port listened on (the real one when 0 was asked for).
    public var port: Int { server.port }
    /// `http://host:port`.
    public var baseURL: String { server.baseURL }

    /// Binds, creates `configuration.activities` (throws `LocalServiceError` `InvalidName` for a bad
    /// one) and starts serving.
    public static func start(
        _ configuration: Configuration, logger: Logger = Logger(label: "stepworker.local-endpoint")
    ) async throws -> LocalEndpointServer {
        let endpoint = LocalEndpoint(configuration: configuration)
        let verifier = configuration.credentials.map {
            SignatureVerifier(credentials: $0, region: configuration.region, maxClockSkew: configuration.maxClockSkew)
        }
        let service = ServiceAPI(endpoint: endpoint, verifier: verifier, logger: logger)
        let admin = AdminAPI(endpoint: endpoint)
        let server = try await HTTPServer.start(host: configuration.host, port: configuration.port, logger: logger) { request in
            if request.path.hasPrefix(AdminAPI.prefix) {
                return await admin.handle(request)
            }
            return await service.handle(request)
        }
        for name in configuration.activities {
            do throws(LocalServiceError) {
                _ = try await endpoint.createActivity(name: name)
            } catch {
                await server.shutdown()
                throw error
            }
        }
        return LocalEndpointServer(endpoint: endpoint, server: server)
    }

    private init(endpoint: LocalEndpoint, server: HTTPServer) {
        self.endpoint = endpoint
        self.server = server
    }

    /// Stops listening and answers open polls; returns when every connection is closed.
    public func shutdown() async {
        await server.shutdown()
    }

    /// Returns when the server has stopped.
    public func waitUntilStopped() async {
        await server.waitUntilStopped()
    }
}
