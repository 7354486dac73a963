/// JSON text helpers: a strict validator with useful messages, and string encoding.
public enum JSONText {
    /// nil when `bytes` is one valid JSON value (any type, surrounding whitespace allowed),
    /// else what is wrong and at which byte offset.
    public static func validationError(_ bytes: [UInt8]) -> String? {
        var parser = JSONValidator(bytes: bytes)
        return parser.validate()
    }

    /// `text` as a JSON string literal. Control characters and DEL are escaped, which keeps the
    /// literal valid as a TOML basic string too.
    public static func encode(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

private struct JSONValidator {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func validate() -> String? {
        do throws(Failure) {
            skipWhitespace()
            try value()
            skipWhitespace()
            if index < bytes.count { throw Failure.at(index, "unexpected \(describe(bytes[index])) after the value") }
            return nil
        } catch {
            return error.message
        }
    }

    struct Failure: Error {
        var message: String
        static func at(_ offset: Int, _ text: String) -> Failure { Failure(message: "\(text) at byte \(offset)") }
    }

    func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func value() throws(Failure) {
        guard index < bytes.count else { throw Failure.at(index, "unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try container(close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try container(close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw Failure.at(index, "unexpected \(describe(bytes[index]))")
        }
    }

    mutating func container(close: UInt8, keyed: Bool) throws(Failure) {
        depth += 1
        guard depth <= 512 else { throw Failure.at(index, "nested too deeply") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            if keyed {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw Failure.at(index, "expected a string key")
                }
                try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Failure.at(index, "expected ':'") }
                index += 1
                skipWhitespace()
            }
            try value()
            skipWhitespace()
            guard index < bytes.count else { throw Failure.at(index, "unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == close else { throw Failure.at(index, "expected ',' or '\(Character(Unicode.Scalar(close)))'") }
            index += 1
            depth -= 1
            return
        }
    }

    mutating func string() throws(Failure) {
        let start = index
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard String(validating: bytes[start..<index], as: UTF8.self) != nil else {
                    throw Failure.at(start, "string is not valid UTF-8")
                }
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { break }
                if bytes[index] == UInt8(ascii: "u") {
                    let hex = bytes[min(index + 1, bytes.count)..<min(index + 5, bytes.count)]
                    guard hex.count == 4, hex.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }) else {
                        throw Failure.at(index, "bad \\u escape")
                    }
                    index += 5
                } else {
                    guard "\"\\/bfnrt".utf8.contains(bytes[index]) else { throw Failure.at(index, "bad escape") }
                    index += 1
                }
            case 0..<0x20: throw Failure.at(index, "control character in string")
            default: index += 1
            }
        }
        throw Failure.at(start, "unterminated string")
    }

    mutating func literal(_ word: String) throws(Failure) {
        let expected = Array(word.utf8)
        guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
            throw Failure.at(index, "unexpected \(describe(bytes[index]))")
        }
        index += expected.count
    }

    mutating func number() throws(Failure) {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ index: inout Int, _ bytes: [UInt8]) -> Int {
            let begin = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - begin
        }
        let intStart = index
        let count = digits(&index, bytes)
        guard count > 0 else { throw Failure.at(start, "malformed number") }
        if count > 1, bytes[intStart] == UInt8(ascii: "0") { throw Failure.at(start, "number with a leading zero") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&index, bytes) > 0 else { throw Failure.at(start, "malformed number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&index, bytes) > 0 else { throw Failure.at(start, "malformed number") }
        }
    }
}
