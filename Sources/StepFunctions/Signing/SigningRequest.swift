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
        headers.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        removeHeader(name)
        headers.append(Header(name: name, value: value))
    }

    public mutating func removeHeader(_ name: String) {
        headers.removeAll { Self.sameName($0.name, name) }
    }

    /// Header names compared as HTTP does, ignoring case; ASCII names (all real ones) without
    /// making lowercased copies.
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let folded: Bool? = a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.allSatisfy({ $0 < 0x80 }), y.allSatisfy({ $0 < 0x80 }) else { return nil }
                return x.count == y.count && zip(x, y).allSatisfy { lowerASCII($0) == lowerASCII($1) }
            }
        }
        return folded ?? (a.lowercased() == b.lowercased())
    }

    /// An ASCII letter in lower case; any other byte as it is.
    static func lowerASCII(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
