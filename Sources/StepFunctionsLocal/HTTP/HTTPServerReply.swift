import FoundationEssentials
import NIOCore
import NIOHTTP1

/// What the server does with a request.
public enum HTTPServerReply: Sendable {
    case respond(HTTPServerResponse)
    /// Close the connection without answering, as a dropped network connection would.
    case dropConnection
}
