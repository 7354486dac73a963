import Crypto
public import FoundationEssentials

/// AWS Signature Version 4 with `Authorization` header, as botocore computes it.
///
/// The pieces (canonical request, string to sign, signature) are public so the local endpoint can
/// verify a request with the same code, and tests can compare each piece with botocore's.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Headers a proxy or client may change in flight; never signed (botocore's list).
    public static let unsignedHeaders: Set<String> = ["expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"]

    public let service: String
    public let region: String
    private let keys = SigningKeyCache()

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials) and `Authorization`.
    /// `request` must carry a `Host` header.
    public func sign(_ request: inout SigningRequest, credentials: AWSCredentials, date: Date) {
        let timestamp = Self.timestamp(date)
        request.removeHeader("Authorization")
        request.setHeader("X-Amz-Date", timestamp)
        if let token = credentials.sessionToken {
            request.setHeader("X-Amz-Security-Token", token)
        }
        let lowered = request.headers.map { Self.lowercasedASCII($0.name) }
        let signedHeaders = Self.signedHeaderNames(lowered)
        let canonical = Self.canonicalRequestBytes(request, lowered: lowered, signedHeaders: signedHeaders)
        let scope = credentialScope(timestamp: timestamp)
        let toSign = Self.stringToSign(canonicalRequestHash: Hex.encode(SHA256.hash(data: canonical)), timestamp: timestamp, scope: scope)
        let signature = signature(stringToSign: toSign, secretAccessKey: credentials.secretAccessKey, timestamp: timestamp)
        var authorization = Self.algorithm
        authorization.reserveCapacity(200)
        authorization += " Credential="
        authorization += credentials.accessKeyID
        authorization += "/"
        authorization += scope
        authorization += ", SignedHeaders="
        authorization += signedHeaders.joined(separator: ";")
        authorization += ", Signature="
        authorization += signature
        request.headers.append(.init(name: "Authorization", value: authorization))
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    public func credentialScope(timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// Hex HMAC-SHA256 of `stringToSign` with the key derived from the secret, date, region and service.
    /// The HMAC keyed with the derived key is cached per secret and day (`SigningKeyCache`).
    public func signature(stringToSign: String, secretAccessKey: String, timestamp: String) -> String {
        let day = timestamp.prefix(8)
        var mac = keys.mac(secret: secretAccessKey, day: day) {
            var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
            for part in [String(day), region, service, "aws4_request"] {
                key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
            }
            return key
        }
        mac.update(data: Array(stringToSign.utf8))
        return Hex.encode(mac.finalize())
    }

    /// The lowercased, sorted, de-duplicated names of the headers to sign.
    public static func signedHeaderNames(of request: SigningRequest) -> [String] {
        signedHeaderNames(request.headers.map { lowercasedASCII($0.name) })
    }

    /// The same from the request's header names already lowercased, in order.
    static func signedHeaderNames(_ lowered: [String]) -> [String] {
        var names: [String] = []
        names.reserveCapacity(lowered.count)
        for name in lowered where !unsignedHeaders.contains(name) && !names.contains(name) { names.append(name) }
        names.sort()
        return names
    }

    public static func canonicalRequest(_ request: SigningRequest, signedHeaders: [String]) -> String {
        let lowered = request.headers.map { lowercasedASCII($0.name) }
        return String(decoding: canonicalRequestBytes(request, lowered: lowered, signedHeaders: signedHeaders), as: UTF8.self)
    }

    /// The canonical request as the bytes that are hashed: method, URI, query, one
    /// `name:values` line per signed header (the values of a repeated name joined by commas),
    /// the signed names, the body's SHA-256, each part on its own line. Built in one buffer: it
    /// is made for every call the worker sends. `lowered`: the header names in lower case, in order.
    static func canonicalRequestBytes(_ request: SigningRequest, lowered: [String], signedHeaders: [String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        let newline = UInt8(ascii: "\n")
        out += request.method.uppercased().utf8
        out.append(newline)
        out += (request.path == "/" ? "/" : canonicalURI(request.path)).utf8
        out.append(newline)
        out += canonicalQuery(request.query).utf8
        out.append(newline)
        for name in signedHeaders {
            out += name.utf8
            out.append(UInt8(ascii: ":"))
            var first = true
            for (index, header) in request.headers.enumerated() where lowered[index] == name {
                if !first { out.append(UInt8(ascii: ",")) }
                out += trimmedValue(header.value).utf8
                first = false
            }
            out.append(newline)
        }
        out.append(newline)
        for (index, name) in signedHeaders.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out += name.utf8
        }
        out.append(newline)
        out += Hex.encode(SHA256.hash(data: request.body)).utf8
        return out
    }

    /// `lowercased()` without its Unicode machinery when the name is ASCII (header names are).
    static func lowercasedASCII(_ name: String) -> String {
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else { return name.lowercased() }
        guard name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return name }
        return String(decoding: name.utf8.map(SigningRequest.lowerASCII), as: UTF8.self)
    }

    /// A header value with its whitespace runs made one space and its ends trimmed (botocore's
    /// `' '.join(value.split())`). Values of visible ASCII only are already so: kept as they are,
    /// without splitting them into Characters.
    static func trimmedValue(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) { return value }
        return value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    public static func stringToSign(canonicalRequest: String, timestamp: String, scope: String) -> String {
        stringToSign(canonicalRequestHash: Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8))), timestamp: timestamp, scope: scope)
    }

    static func stringToSign(canonicalRequestHash: String, timestamp: String, scope: String) -> String {
        algorithm + "\n" + timestamp + "\n" + scope + "\n" + canonicalRequestHash
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds.floorDivided(by: 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let inDay = seconds - days * 86_400
        var text: [UInt8] = []
        text.reserveCapacity(16)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            for _ in 0..<count {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4); digits(month, 2); digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(inDay / 3600, 2); digits(inDay / 60 % 60, 2); digits(inDay % 60, 2)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    /// The path with dot segments and empty segments removed, then percent-encoded once more
    /// (every byte but unreserved characters and `/`), as botocore does for every service but S3.
    static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var kept: [Substring] = []
        for segment in segments where segment != "." {
            if segment == ".." {
                _ = kept.popLast()
            } else {
                kept.append(segment)
            }
        }
        var normalized = path.hasPrefix("/") ? "/" : ""
        normalized += kept.joined(separator: "/")
        if path.hasSuffix("/") && !kept.isEmpty { normalized += "/" }
        return PercentEncoding.encode(normalized, keeping: "/")
    }

    /// `name=value` pairs as sent, sorted by name then value; a pair without `=` gets an empty value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
            guard let equals = pair.firstIndex(of: "=") else { return (String(pair), "") }
            return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
        }
        return pairs
            .sorted { $0.0 != $1.0 ? Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) : Array($0.1.utf8).lexicographicallyPrecedes(Array($1.1.utf8)) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Howard Hinnant's days-to-civil algorithm: no calendar or locale involved.
    private static func civilDate(daysSinceEpoch: Int) -> (Int, Int, Int) {
        let z = daysSinceEpoch + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
