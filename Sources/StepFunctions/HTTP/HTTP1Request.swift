public import NIOCore
public import NIOHTTP1

/// Where a request goes: scheme, host and port. Connections are pooled per origin.
public struct HTTP1Origin: Hashable, Sendable, CustomStringConvertible {
    public var tls: Bool
    /// The host as it is connected to: a name, or an IP address without brackets.
    public var host: String
    public var port: Int

    public init(tls: Bool, host: String, port: Int? = nil) {
        self.tls = tls
        self.host = host
        self.port = port ?? (tls ? 443 : 80)
    }

    public init(_ endpoint: Endpoint) {
        self.init(tls: endpoint.scheme == "https", host: endpoint.host, port: endpoint.port)
    }

    /// The `Host` header: the host, and the port unless it is the scheme's default.
    public var hostHeader: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return port == (tls ? 443 : 80) ? host : "\(host):\(port)"
    }

    public var description: String { "\(tls ? "https" : "http")://\(hostHeader)" }
}

/// One request: the whole body is in memory (every request this daemon makes is small).
public struct HTTP1Request: Sendable {
    public var method: HTTPMethod
    public var origin: HTTP1Origin
    /// The request target: the path and query, `/` at least.
    public var target: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer?

    public init(method: HTTPMethod, origin: HTTP1Origin, target: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.method = method
        self.origin = origin
        self.target = target.isEmpty ? "/" : target
        self.headers = headers
        self.body = body
    }

    /// A request for an `http://` or `https://` URL; the fragment is dropped, the query kept.
    public init(method: HTTPMethod, url: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) throws(HTTP1Error) {
        let endpoint: Endpoint
        do {
            endpoint = try EndpointResolver.parse(url: url, source: "URL", signingRegion: "")
        } catch {
            throw HTTP1Error(.invalidURL, error.description)
        }
        let rest = url[url.firstRange(of: "://")!.upperBound...]
        var target = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" }.map { String(rest[$0...]) } ?? "/"
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if target.hasPrefix("?") { target = "/" + target }
        self.init(method: method, origin: HTTP1Origin(endpoint), target: target, headers: headers, body: body)
    }
}

public struct HTTP1Response: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
}

/// Why an exchange failed. The words never carry request data (headers, bodies, tokens).
public struct HTTP1Error: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case invalidURL
        /// The connection could not be made: refused, unreachable, name not found, TLS refused.
        case connectFailed
        case connectTimeout
        /// The whole exchange took longer than its timeout.
        case timeout
        /// The peer closed the connection before the answer was complete.
        case connectionClosed
        case responseTooLarge
        /// The answer was not HTTP/1.1 this client can read.
        case invalidResponse
        case shutDown
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    public var description: String {
        let words: String
        switch kind {
        case .invalidURL: words = "invalid URL"
        case .connectFailed: words = "connection failed"
        case .connectTimeout: words = "connect timed out"
        case .timeout: words = "timed out"
        case .connectionClosed: words = "connection closed by the server"
        case .responseTooLarge: words = "response too large"
        case .invalidResponse: words = "invalid response"
        case .shutDown: words = "HTTP client shut down"
        }
        return detail.isEmpty ? words : "\(words): \(detail)"
    }
}
