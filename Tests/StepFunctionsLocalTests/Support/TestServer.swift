import AsyncHTTPClient
import NIOCore
import Foundation
import StepFunctions
import StepFunctionsLocal

/// Runs `body` against a fresh endpoint on a port the OS chose, then shuts server and client down.
func withLocalEndpoint<T: Sendable>(
    _ configuration: LocalEndpointConfiguration = LocalEndpointConfiguration(pollDuration: .seconds(1)),
    signingWith credentials: AWSCredentials? = nil,
    _ body: (LocalEndpointServer, TestClient) async throws -> T
) async throws -> T {
    let server = try await LocalEndpointServer.start(configuration)
    var httpConfiguration = HTTPClient.Configuration()
    httpConfiguration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    let client = TestClient(
        http: http, port: server.port, credentials: credentials ?? configuration.credentials, region: configuration.region)
    do {
        let result = try await body(server, client)
        try await http.shutdown()
        await server.shutdown()
        return result
    } catch {
        try? await http.shutdown()
        await server.shutdown()
        throw error
    }
}

/// The credentials signed tests use.
let testCredentials = AWSCredentials(accessKeyID: "AKIDLOCALTEST", secretAccessKey: "local/secret+key")
