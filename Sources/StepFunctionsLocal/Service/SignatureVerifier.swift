public import FoundationEssentials
import NIOHTTP1
import POSIXSupport
public import StepFunctions

/// Checks a request's SigV4 `Authorization` header the way the service does: the key must be
/// known, the scope must name the endpoint's region and `states`, `X-Amz-Date` must be within
/// the allowed skew, and the signature recomputed from the request as received (method, path,
/// query, the signed headers' values, body) must match.
public struct SignatureVerifier: Sendable {
    public static let service = "states"

    public var credentials: AWSCredentials
    public var region: String
    public var maxClockSkew: Duration

    public init(credentials: AWSCredentials, region: String, maxClockSkew: Duration = .seconds(15 * 60)) {
        self.credentials = credentials
        self.region = region
        self.maxClockSkew = maxClockSkew
    }

    /// The parts of an `Authorization` header.
    struct Authorization: Equatable {
        var accessKeyID: String
        var scopeDate: String
        var scopeRegion: String
        var scopeService: String
        var scopeTerminator: String
        var signedHeaders: [String]
        var signature: String

        /// `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex`.
        static func parse(_ header: String) throws(LocalServiceError) -> Authorization {
            let prefix = SigV4Signer.algorithm + " "
            guard header.hasPrefix(prefix) else {
                throw .incompleteSignature("Unsupported authorization type; only \(SigV4Signer.algorithm) is accepted.")
            }
            var fields: [String: String] = [:]
            for part in header.dropFirst(prefix.count).split(separator: ",") {
                let pair = part.trimmingWhitespace().split(separator: "=", maxSplits: 1)
                if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
            }
            for name in ["Credential", "SignedHeaders", "Signature"] where fields[name]?.isEmpty ?? true {
                throw .incompleteSignature("Authorization header requires '\(name)' parameter.")
            }
            let credential = fields["Credential", default: ""].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard credential.count == 5 else {
                throw .incompleteSignature(
                    "Credential should have 5 parts (access key/date/region/service/aws4_request), not \(credential.count).")
            }
            return Authorization(
                accessKeyID: credential[0], scopeDate: credential[1], scopeRegion: credential[2],
                scopeService: credential[3], scopeTerminator: credential[4],
                signedHeaders: fields["SignedHeaders", default: ""].split(separator: ";").map { $0.lowercased() },
                signature: fields["Signature", default: ""])
        }
    }

    /// Nil when the request is properly signed; else the error the service would answer.
    public func verify(_ request: HTTPServerRequest, now: Date) -> LocalServiceError? {
        do throws(LocalServiceError) {
            try check(request, now: now)
            return nil
        } catch {
            return error
        }
    }

    func check(_ request: HTTPServerRequest, now: Date) throws(LocalServiceError) {
        guard let header = request.headers.first(name: "Authorization") else { throw .missingAuthentication }
        let authorization = try Authorization.parse(header)
        guard authorization.accessKeyID == credentials.accessKeyID else { throw .unrecognizedClient }
        guard let timestamp = request.headers.first(name: "X-Amz-Date") else {
            throw .incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard let signedAt = Self.parseTimestamp(timestamp) else {
            throw .incompleteSignature("X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'.")
        }
        try checkTime(signedAt: signedAt, timestamp: timestamp, now: now)
        try checkScope(authorization, timestamp: timestamp)
        if let expected = credentials.sessionToken, request.headers.first(name: "X-Amz-Security-Token") != expected {
            throw .unrecognizedClient
        }
        guard authorization.signedHeaders.contains("host") else {
            throw .incompleteSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        }
        // X-Amz-Target picks the operation: unsigned, a captured heartbeat could be replayed as
        // another call. The SDKs sign every x-amz-* header they send.
        for name in Set(request.headers.map { $0.name.lowercased() }) where name.hasPrefix("x-amz-") {
            guard authorization.signedHeaders.contains(name) else {
                throw .incompleteSignature("'\(name)' must be a 'SignedHeader' in the AWS Authorization.")
            }
        }
        let signing = SigningRequest(
            method: request.method.rawValue, path: request.path, query: request.query,
            headers: request.headers.map { SigningRequest.Header(name: $0.name, value: $0.value) },
            body: request.bodyBytes)
        let canonical = SigV4Signer.canonicalRequest(signing, signedHeaders: authorization.signedHeaders)
        let signer = SigV4Signer(service: authorization.scopeService, region: authorization.scopeRegion)
        let stringToSign = SigV4Signer.stringToSign(
            canonicalRequest: canonical, timestamp: timestamp, scope: signer.credentialScope(timestamp: timestamp))
        let expected = signer.signature(
            stringToSign: stringToSign, secretAccessKey: credentials.secretAccessKey, timestamp: timestamp)
        guard Self.constantTimeEqual(expected, authorization.signature) else { throw .signatureMismatch }
    }

    private func checkTime(signedAt: Date, timestamp: String, now: Date) throws(LocalServiceError) {
        let skew = Double(maxClockSkew.components.seconds)
        let minutes = Int(skew / 60)
        if signedAt < now.addingTimeInterval(-skew) {
            throw .invalidSignature(
                "Signature expired: \(timestamp) is now earlier than \(SigV4Signer.timestamp(now.addingTimeInterval(-skew))) "
                    + "(\(SigV4Signer.timestamp(now)) - \(minutes) min.)")
        }
        if signedAt > now.addingTimeInterval(skew) {
            throw .invalidSignature(
                "Signature not yet current: \(timestamp) is still later than \(SigV4Signer.timestamp(now.addingTimeInterval(skew))) "
                    + "(\(SigV4Signer.timestamp(now)) + \(minutes) min.)")
        }
    }

    private func checkScope(_ authorization: Authorization, timestamp: String) throws(LocalServiceError) {
        let day = String(timestamp.prefix(8))
        guard authorization.scopeDate == day else {
            throw .invalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'\(authorization.scopeDate)' != '\(day)', from '\(timestamp)'.")
        }
        guard authorization.scopeRegion == region else {
            throw .invalidSignature("Credential should be scoped to a valid region, not '\(authorization.scopeRegion)'.")
        }
        guard authorization.scopeService == Self.service else {
            throw .invalidSignature("Credential should be scoped to correct service: '\(Self.service)'.")
        }
        guard authorization.scopeTerminator == "aws4_request" else {
            throw .invalidSignature(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '\(authorization.scopeTerminator)'.")
        }
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func parseTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        // No Calendar or TimeZone: without FoundationInternationalization (the shipped binary links
        // only FoundationEssentials) they trap. Out-of-range fields fail the round trip.
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let seconds = ISO8601Timestamp.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        let date = Date(timeIntervalSince1970: Double(seconds))
        guard SigV4Signer.timestamp(date) == text else { return nil }
        return date
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
