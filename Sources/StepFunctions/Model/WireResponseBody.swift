/// An answer that reads itself from a flat JSON object of string members, so the answer to every
/// poll (`{"input":"...","taskToken":"..."}`) and every result and heartbeat (`{}`) skips
/// `JSONDecoder`. Anything else (another kind of value, a duplicate key, an escape that
/// does not check out) is left to `JSONDecoder`, which decides and names the error.
package protocol WireJSONReadable: Decodable {
    /// nil: not an object this type reads by hand.
    init?(members: WireJSONObject)
}

/// The members of a flat JSON object whose values are all strings or `null`.
package struct WireJSONObject {
    private var members: [(key: String, value: String?)] = []

    /// The value of `key`: nil when absent or `null`.
    package subscript(key: String) -> String? {
        members.first { $0.key == key }?.value ?? nil
    }

    /// Reads `bytes`; nil when they are anything but such an object (then `JSONDecoder` decides).
    package static func read(_ bytes: UnsafeRawBufferPointer) -> WireJSONObject? {
        var reader = Reader(bytes: bytes)
        return reader.object()
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func object() -> WireJSONObject? {
            var object = WireJSONObject()
            guard next() == UInt8(ascii: "{") else { return nil }
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                offset += 1
            } else {
                while true {
                    guard next() == UInt8(ascii: "\""), let key = string() else { return nil }
                    guard next() == UInt8(ascii: ":") else { return nil }
                    let value: String?
                    skipWhitespace()
                    if peek() == UInt8(ascii: "n") {
                        guard literalNull() else { return nil }
                        value = nil
                    } else {
                        guard next() == UInt8(ascii: "\""), let text = string() else { return nil }
                        value = text
                    }
                    // A repeated key: which one counts is JSONDecoder's to say.
                    guard !object.members.contains(where: { $0.key == key }) else { return nil }
                    object.members.append((key, value))
                    let separator = next()
                    if separator == UInt8(ascii: ",") { continue }
                    guard separator == UInt8(ascii: "}") else { return nil }
                    break
                }
            }
            skipWhitespace()
            return offset == bytes.count ? object : nil
        }

        /// The next byte after any whitespace.
        mutating func next() -> UInt8? {
            skipWhitespace()
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        func peek() -> UInt8? {
            offset < bytes.count ? bytes[offset] : nil
        }

        mutating func skipWhitespace() {
            while offset < bytes.count {
                switch bytes[offset] {
                case 0x20, 0x09, 0x0A, 0x0D: offset += 1
                default: return
                }
            }
        }

        mutating func literalNull() -> Bool {
            guard bytes.count - offset >= 4, bytes[offset + 1] == UInt8(ascii: "u"), bytes[offset + 2] == UInt8(ascii: "l"),
                bytes[offset + 3] == UInt8(ascii: "l")
            else { return false }
            offset += 4
            return true
        }

        /// The rest of a string whose opening quote was read. Runs without escapes are copied
        /// whole; the result must be valid UTF-8.
        mutating func string() -> String? {
            var text: [UInt8] = []
            var run = offset
            while offset < bytes.count {
                offset = JSONStringScan.firstSpecial(in: bytes, from: offset)
                guard offset < bytes.count else { return nil }
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") {
                    text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[run..<offset]))
                    offset += 1
                    return String(validating: text, as: UTF8.self)
                }
                if byte < 0x20 { return nil }  // a control character must be escaped
                text.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[run..<offset]))
                offset += 1
                guard offset < bytes.count else { return nil }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    UTF8.encode(scalar) { text.append($0) }
                default: return nil
                }
                run = offset
            }
            return nil
        }

        /// `XXXX` after `\u`, and a low surrogate's `\uXXXX` after a high one. A lone surrogate
        /// is no scalar: nil.
        mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = hex4() else { return nil }
            guard (0xD800...0xDBFF).contains(high) else { return Unicode.Scalar(high) }
            guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else { return nil }
            offset += 2
            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }

        mutating func hex4() -> UInt32? {
            guard bytes.count - offset >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
                offset += 1
            }
            return value
        }
    }
}

extension Wire.Empty: WireJSONReadable {
    /// Any flat object, as JSONDecoder reads one into `Empty` (the service answers `{}`).
    package init?(members: WireJSONObject) {
        self.init()
    }
}

extension Wire.GetActivityTaskOutput: WireJSONReadable {
    package init?(members: WireJSONObject) {
        self.init(taskToken: members["taskToken"], input: members["input"])
    }
}
