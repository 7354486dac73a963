import FoundationEssentials

/// Where the Step Functions API is reached, and the region requests are signed for.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    /// nil for the scheme's default port.
    public var port: Int?
    /// The path requests are sent to (`/` unless an explicit endpoint URL has one).
    public var path: String
    public var signingRegion: String

    public init(scheme: String, host: String, port: Int? = nil, path: String = "/", signingRegion: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : path
        self.signingRegion = signingRegion
    }

    /// The `Host` header: the host (an IPv6 address in brackets), and the port unless it is the
    /// scheme's default. One rule with the connection's: `HTTP1Origin.hostHeader`.
    public var hostHeader: String { HTTP1Origin(self).hostHeader }

    public var url: String { "\(scheme)://\(hostHeader)\(path)" }
    public var description: String { url }
}
