public import Logging

/// One log line for humans and plain files: `LEVEL message key=value key=value`.
///
/// Keys are sorted. Newlines, tabs and backslashes are escaped (`\n`, `\t`, `\\`) so one event
/// is always one line; values with spaces, quotes or `=` (or empty ones) are double-quoted.
public enum TextLineFormat {
    public static func line(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = levelName(level)
        line.reserveCapacity(128)
        line += " "
        line += escape(message)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += keyText(key)
            line += "="
            line += valueText(LogEventFields.text(value))
        }
        line += "\n"
        return line
    }

    public static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }

    static func escape(_ text: String) -> String {
        // Most text is printable ASCII without a backslash: nothing to do, nothing to copy.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\\") }) { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}": escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private static func keyText(_ key: String) -> String {
        if !key.isEmpty, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && !Self.unsafeInKeys.contains($0) }) { return key }
        let cleaned = String(key.map { $0 == " " || $0 == "=" || $0 == "\"" ? "_" : $0 })
        return escape(cleaned.isEmpty ? "_" : cleaned)
    }

    /// What `keyText` must change in a key besides spaces and controls: `\` (escaped), `=` and `"` (replaced).
    private static let unsafeInKeys: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "="), UInt8(ascii: "\"")]

    private static func valueText(_ value: String) -> String {
        let escaped = escape(value)
        guard escaped.isEmpty || escaped.utf8.contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") }) else {
            return escaped
        }
        return "\"" + escaped.replacingQuotes() + "\""
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\"" { result += "\\\"" } else { result.append(character) }
        }
        return result
    }
}
