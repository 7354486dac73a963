extension StringProtocol {
    /// The text without its leading and trailing whitespace and newlines (`Character.isWhitespace`,
    /// Unicode's White_Space), from the standard library alone: what Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` gave, so no module needs Foundation for it.
    package func trimmingWhitespace() -> SubSequence {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return slice
    }
}
