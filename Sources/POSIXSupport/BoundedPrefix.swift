extension StringProtocol {
    /// The text as a message quotes a value that comes from outside (a configuration value, a
    /// handler's error name, a TOML parser's message): whole when it has at most `limit`
    /// characters, else its first `limit` characters and `… (N bytes)`, N its whole UTF-8 size.
    /// A 10 MB value makes a message of about `limit` characters, not 10 MB.
    ///
    /// The cut falls on a character boundary, and the work is bounded by `limit`, not by the
    /// text: only the first `4 × limit` Unicode scalars are looked at, so a pathological value
    /// (one "character" of a million combining marks) is cut at a scalar boundary there.
    package func boundedPrefix(_ limit: Int = 200) -> String {
        let limit = Swift.max(0, limit)
        // At most `limit` bytes is at most `limit` characters: whole, without looking further.
        let size = utf8.count
        if size <= limit { return String(self) }
        let scalars = unicodeScalars
        let windowEnd = scalars.index(scalars.startIndex, offsetBy: 4 * limit + 4, limitedBy: scalars.endIndex) ?? scalars.endIndex
        // A copy, so that finding characters never reads past the window into the rest.
        let window = String(self[startIndex..<windowEnd])
        let head = window.prefix(limit)
        if windowEnd == endIndex, head.endIndex == window.endIndex { return window }
        return "\(head)… (\(size) bytes)"
    }
}
