/// Suggestions for misspelt keys: the closest known key by Levenshtein distance.
enum EditDistance {
    /// Past this many bytes a text is no typo of a key or a value the configuration knows: it is
    /// not compared (the work is its length times each known key's: a 1 MB unknown key took
    /// seconds to report), its distance is `Int.max`.
    static let maxComparedBytes = 256

    static func distance(_ a: String, _ b: String) -> Int {
        if a.utf8.count > maxComparedBytes || b.utf8.count > maxComparedBytes { return Int.max }
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The known key closest to `key`, if it is close enough to be a plausible typo
    /// (at most a third of the key's length, and at least 1, edits away), or the known key that
    /// the given one abbreviates.
    static func suggestion(for key: String, among known: [String]) -> String? {
        guard key.utf8.count <= maxComparedBytes else { return nil }
        let lowered = key.lowercased()
        if lowered.count >= 4, let extended = known.first(where: { $0.hasPrefix(lowered) }) {
            return extended
        }
        let limit = max(1, key.count / 3)
        let ranked = known
            .map { (candidate: $0, distance: distance(lowered, $0)) }
            .filter { $0.distance <= limit }
            .sorted { ($0.distance, $0.candidate) < ($1.distance, $1.candidate) }
        return ranked.first?.candidate
    }
}
