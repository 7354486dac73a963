import FoundationEssentials

/// A request body that writes its own JSON, so the hot requests (GetActivityTask, the three
/// Send* calls) skip `JSONEncoder`, which spent ~57,000 instructions on a two-field object
/// (docs/benchmark.md, "Where the time goes"). The output decodes to the same value as
/// `JSONEncoder`'s: absent optionals left out, keys in declaration order (`JSONEncoder`'s order
/// varies, which JSON allows), and `/` not escaped (`JSONEncoder` writes `\/`).
package protocol WireJSONWritable: Encodable {
    func writeJSON(into writer: inout WireJSONWriter)
}

package enum WireRequestBody {
    /// The body of a request: the hand-written JSON where the input has one, else `JSONEncoder`'s.
    package static func encode<Input: Encodable>(_ input: Input) throws -> [UInt8] {
        if let writable = input as? any WireJSONWritable {
            var writer = WireJSONWriter()
            writable.writeJSON(into: &writer)
            return writer.finish()
        }
        return Array(try JSONEncoder().encode(input))
    }
}

/// Writes one flat JSON object of string members.
package struct WireJSONWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var hasMember = false

    package init() {}

    /// Appends `"key":"value"`; `key` must need no escaping. Leaves `nil` out, as
    /// `encodeIfPresent` does.
    package mutating func member(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        if hasMember { bytes.append(UInt8(ascii: ",")) }
        hasMember = true
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        appendString(value)
    }

    /// The finished object.
    package consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// The value quoted and escaped. Runs of bytes that need no escape (all of a task token, most
    /// of an output) are copied whole: byte by byte, this was 4% of the daemon's instructions.
    private mutating func appendString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            bytes.reserveCapacity(bytes.count + utf8.count + 3)
            bytes.append(UInt8(ascii: "\""))
            // A Swift String's UTF-8 is valid, so multi-byte scalars (U+2028, emoji) pass through
            // as they are; JSON allows them unescaped.
            var run = 0
            while true {
                let special = JSONStringScan.firstSpecial(in: UnsafeRawBufferPointer(utf8), from: run)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<special]))
                guard special < utf8.count else { break }
                appendEscape(utf8[special])
                run = special + 1
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(Self.hex[Int(byte >> 4)])
            bytes.append(Self.hex[Int(byte & 0x0F)])
        }
    }
}

extension Wire.GetActivityTaskInput: WireJSONWritable {
    package func writeJSON(into writer: inout WireJSONWriter) {
        writer.member("activityArn", activityArn)
        writer.member("workerName", workerName)
    }
}

extension Wire.SendTaskSuccessInput: WireJSONWritable {
    package func writeJSON(into writer: inout WireJSONWriter) {
        writer.member("taskToken", taskToken)
        writer.member("output", output)
    }
}

extension Wire.SendTaskFailureInput: WireJSONWritable {
    package func writeJSON(into writer: inout WireJSONWriter) {
        writer.member("taskToken", taskToken)
        writer.member("error", error)
        writer.member("cause", cause)
    }
}

extension Wire.TaskTokenInput: WireJSONWritable {
    package func writeJSON(into writer: inout WireJSONWriter) {
        writer.member("taskToken", taskToken)
    }
}
