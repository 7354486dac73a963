import FoundationEssentials
public import NIOCore
public import NIOHTTP1

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
