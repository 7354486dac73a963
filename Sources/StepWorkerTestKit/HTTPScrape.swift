import AsyncHTTPClient
import NIOCore
public import NIOHTTP1

/// One plain HTTP request over loopback and its answer (`/metrics` scrapes and the like).
public struct HTTPScrape: Sendable {
    public var status: UInt
    public var contentType: String?
    public var allow: String?
    public var body: String

    /// Sends one request to `url` and reads the whole answer (at most 1 MiB).
    public static func request(_ url: String, method: HTTPMethod = .GET, timeout: Duration = .seconds(10)) async throws -> HTTPScrape {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
        let body = try await response.body.collect(upTo: 1 << 20)
        return HTTPScrape(
            status: response.status.code, contentType: response.headers.first(name: "Content-Type"),
            allow: response.headers.first(name: "Allow"), body: String(buffer: body))
    }
}
