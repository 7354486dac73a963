/// An HTTP request as SigV4 sees it: the path and query exactly as they go on the wire.
public struct SigningRequest: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    /// The request target's path, percent-encoded as sent (for example `/` or `/a%20b`).
    public var path: String
    /// The query as sent, without the `?`; empty when there is none.
    public var query: String
    /// Headers in the order they are sent; a name may repeat.
    public var headers: [Header]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [Header], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The values of every header called `name` (case-insensitive), in order.
    public func values(of name: String) -> [String] {
        let wanted = name.lowercased()
        return headers.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        removeHeader(name)
        headers.append(Header(name: name, value: value))
    }

    public mutating func removeHeader(_ name: String) {
        let wanted = name.lowercased()
        headers.removeAll { $0.name.lowercased() == wanted }
    }
}
