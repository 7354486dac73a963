import Foundation
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

/// One whole HTTP response.
public struct HTTPServerResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPResponseStatus, contentType: String, body: some Sequence<UInt8>) {
        self.init(status: status, headers: ["Content-Type": contentType], body: ByteBuffer(bytes: body))
    }

    /// `value` encoded as JSON.
    public static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok, contentType: String = "application/json") -> HTTPServerResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return HTTPServerResponse(status: status, contentType: contentType, body: data)
    }
}

/// What the server does with a request.
public enum HTTPServerReply: Sendable {
    case respond(HTTPServerResponse)
    /// Close the connection without answering, as a dropped network connection would.
    case dropConnection
}
