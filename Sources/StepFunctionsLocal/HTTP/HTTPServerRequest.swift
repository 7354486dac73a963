import FoundationEssentials
public import NIOCore
public import NIOHTTP1

/// One whole HTTP request, body included.
public struct HTTPServerRequest: Sendable {
    public var method: HTTPMethod
    /// The request target as sent: path and query.
    public var uri: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    /// The path, percent-encoded as sent.
    public var path: String {
        uri.firstIndex(of: "?").map { String(uri[..<$0]) } ?? uri
    }

    /// The query as sent, without `?`.
    public var query: String {
        uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) } ?? ""
    }

    public var bodyBytes: [UInt8] { Array(body.readableBytesView) }
}
