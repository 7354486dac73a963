/// Lowercase hexadecimal, as SigV4 writes hashes and signatures.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 3986 percent-encoding: unreserved characters (`A-Z a-z 0-9 - _ . ~`) stay, as do any
/// extra characters named; every other UTF-8 byte becomes `%XX` (uppercase).
public enum PercentEncoding {
    public static func encode(_ text: String, keeping extra: String = "") -> String {
        let keep = Set(extra.utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if isUnreserved(byte) || keep.contains(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upper[Int(byte >> 4)])
                out.append(upper[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let upper = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
