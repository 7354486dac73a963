import Foundation

/// The chaos handler's input, `{"id":"a-17","sleep":"0.030"}`, and the endpoint's timestamps.
enum ChaosInput {
    static func make(key: String, sleep: String) -> String { #"{"id":"\#(key)","sleep":"\#(sleep)"}"# }

    static func key(of input: String) -> String? {
        guard let range = input.range(of: #""id":""#) else { return nil }
        let rest = input[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// `2024-05-01T12:00:00.123Z`.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
