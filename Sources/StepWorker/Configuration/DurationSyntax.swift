/// Durations in the configuration: a string of `<integer><unit>` parts (`"500ms"`, `"30s"`,
/// `"15m"`, `"1h30m"`; units `ms`, `s`, `m`, `h`), or an integer number of seconds.
public enum DurationSyntax {
    public static let help = #"expected a duration such as "500ms", "30s", "15m", "1h30m", or integer seconds"#

    /// Parses the string form. Returns nil when malformed.
    public static func parse(_ text: String) -> Duration? {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        var total = Duration.zero
        var index = 0
        var seenUnits: Set<String> = []
        while index < scalars.count {
            var digits = ""
            while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                digits.unicodeScalars.append(scalars[index])
                index += 1
            }
            var unit = ""
            while index < scalars.count, ("a"..."z").contains(scalars[index]) {
                unit.unicodeScalars.append(scalars[index])
                index += 1
            }
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
            guard !seenUnits.contains(unit) else { return nil }
            seenUnits.insert(unit)
            switch unit {
            case "ms": total += .milliseconds(value)
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3600)
            default: return nil
            }
        }
        return total
    }

    /// Renders a duration the way the configuration accepts it back (`"1h30m"`, `"500ms"`).
    public static func render(_ duration: Duration) -> String {
        let totalMilliseconds = duration.components.seconds * 1000
            + duration.components.attoseconds / 1_000_000_000_000_000
        if totalMilliseconds == 0 { return "0s" }
        var rest = totalMilliseconds
        var text = ""
        let hours = rest / 3_600_000
        rest %= 3_600_000
        let minutes = rest / 60_000
        rest %= 60_000
        let seconds = rest / 1000
        let milliseconds = rest % 1000
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if seconds > 0 { text += "\(seconds)s" }
        if milliseconds > 0 { text += "\(milliseconds)ms" }
        return text
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }
        var result = String(String.UnicodeScalarView(scalars))
        while result.last == " " || result.last == "\t" { result.removeLast() }
        return result
    }
}
