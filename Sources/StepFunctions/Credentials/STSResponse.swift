import FoundationEssentials
import POSIXSupport

/// Reads the few fields needed from an STS query-protocol (XML) answer, without an XML library
/// (the daemon links statically, and FoundationXML would pull in libxml2).
///
/// Good enough for STS's documents: elements are found by name, with or without attributes or a
/// namespace prefix; text is entity-decoded; CDATA is taken as is.
enum STSResponse {
    /// The credentials in an `AssumeRole*Response`.
    static func credentials(from body: Data, operation: String) throws(CredentialError) -> AWSCredentials {
        let xml = String(decoding: body, as: UTF8.self)
        guard let block = element("Credentials", in: xml[...]) else {
            throw .failed("STS", "\(operation) answer has no Credentials element")
        }
        guard let keyID = element("AccessKeyId", in: block), let secret = element("SecretAccessKey", in: block),
              let token = element("SessionToken", in: block), let expirationText = element("Expiration", in: block)
        else {
            throw .failed("STS", "\(operation) answer lacks AccessKeyId, SecretAccessKey, SessionToken or Expiration")
        }
        guard let expiration = ISO8601Timestamp.parse(String(decodeText(expirationText).trimmingWhitespace())) else {
            throw .failed("STS", "\(operation) answer has an Expiration that is not an ISO 8601 time")
        }
        return AWSCredentials(
            accessKeyID: decodeText(keyID), secretAccessKey: decodeText(secret),
            sessionToken: decodeText(token), expiration: expiration
        )
    }

    /// `Code` and `Message` of `<ErrorResponse><Error>…`, when the body is one.
    static func error(from body: Data) -> (code: String, message: String)? {
        let xml = String(decoding: body, as: UTF8.self)
        guard let block = element("Error", in: xml[...]), let code = element("Code", in: block) else { return nil }
        return (decodeText(code), element("Message", in: block).map(decodeText) ?? "")
    }

    /// The inner text of the first element called `name` (or `prefix:name`) in `xml`.
    static func element(_ name: String, in xml: Substring) -> Substring? {
        var searchFrom = xml.startIndex
        while let open = xml[searchFrom...].firstIndex(of: "<") {
            guard let close = xml[open...].firstIndex(of: ">") else { return nil }
            let tag = xml[xml.index(after: open)..<close]
            searchFrom = xml.index(after: close)
            guard let first = tag.first, first != "/", first != "?", first != "!" else { continue }
            let tagName = tag.prefix { !$0.isWhitespace && $0 != "/" }
            let localName = tagName.split(separator: ":").last ?? tagName
            guard localName == name else { continue }
            if tag.hasSuffix("/") { return xml[searchFrom..<searchFrom] }  // <Name/>
            let closing = "</\(tagName)>"
            guard let end = xml[searchFrom...].firstRange(of: closing) else { return nil }
            return xml[searchFrom..<end.lowerBound]
        }
        return nil
    }

    /// XML text content: CDATA sections verbatim, entities (`&amp;`, `&#38;`, `&#x26;`, …) decoded.
    static func decodeText(_ text: Substring) -> String {
        var result = ""
        var rest = text
        while let amp = rest.firstIndex(where: { $0 == "&" || $0 == "<" }) {
            result += rest[..<amp]
            rest = rest[amp...]
            if rest.hasPrefix("<![CDATA["), let end = rest.firstRange(of: "]]>") {
                result += rest[rest.index(rest.startIndex, offsetBy: 9)..<end.lowerBound]
                rest = rest[end.upperBound...]
                continue
            }
            guard rest.first == "&", let semicolon = rest.firstIndex(of: ";"),
                  rest.distance(from: rest.startIndex, to: semicolon) <= 10
            else {
                result.append(rest.removeFirst())
                continue
            }
            let entity = rest[rest.index(after: rest.startIndex)..<semicolon]
            if let decoded = decodeEntity(entity) {
                result.append(decoded)
                rest = rest[rest.index(after: semicolon)...]
            } else {
                result.append(rest.removeFirst())
            }
        }
        return result + rest
    }

    private static func decodeEntity(_ entity: Substring) -> Character? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let scalar: UInt32?
            if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                scalar = UInt32(entity.dropFirst(2), radix: 16)
            } else if entity.hasPrefix("#") {
                scalar = UInt32(entity.dropFirst(), radix: 10)
            } else {
                scalar = nil
            }
            return scalar.flatMap(Unicode.Scalar.init).map(Character.init)
        }
    }
}
