import FoundationEssentials

/// Parses the ISO 8601 times AWS sends: `2026-11-25T12:00:00Z`, with optional fractional seconds
/// and a `Z` or `±HH:MM` offset. No locale or calendar involved.
package enum ISO8601Timestamp {
    static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var value = 0
            for char in chars[from..<(from + count)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(char) else { return nil }
                value = value * 10 + Int(char - UInt8(ascii: "0"))
            }
            return value
        }
        func char(_ at: Int) -> UInt8? { at < chars.count ? chars[at] : nil }
        guard let year = number(0, 4), char(4) == UInt8(ascii: "-"), let month = number(5, 2), char(7) == UInt8(ascii: "-"),
              let day = number(8, 2), char(10) == UInt8(ascii: "T") || char(10) == UInt8(ascii: "t"),
              let hour = number(11, 2), char(13) == UInt8(ascii: ":"), let minute = number(14, 2),
              char(16) == UInt8(ascii: ":"), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if char(index) == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while let digit = char(index), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) {
                fraction += Double(digit - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        switch char(index) {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let hours = number(index + 1, 2), char(index + 3) == UInt8(ascii: ":"), let minutes = number(index + 4, 2) else {
                return nil
            }
            offset = (hours * 3600 + minutes * 60) * (char(index) == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        default:
            return nil
        }
        guard index == chars.count else { return nil }
        let seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Howard Hinnant's days-from-civil: days since 1970-01-01 of a proleptic Gregorian date.
    package static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
