import POSIXSupport
/// Reads one TOML table's keys with the types the configuration expects, recording a problem for
/// every wrong type and, at `finish()`, for every key it was not asked about (with a suggestion).
struct TableReader {
    let path: ConfigKeyPath
    private let entries: [(key: String, value: TOMLNode)]
    private let knownKeys: [String]

    /// Reads `node` as a table; records a problem and reads nothing when it is not one.
    init(_ node: TOMLNode?, at path: ConfigKeyPath, knownKeys: [String], problems: inout ProblemList) {
        self.path = path
        self.knownKeys = knownKeys
        switch node {
        case .table(let entries)?: self.entries = entries
        case nil: self.entries = []
        case let other?:
            problems.add(path, "expected a table, got \(other.typeName)")
            self.entries = []
        }
    }

    var keys: Set<String> { Set(entries.map(\.key)) }

    func node(_ key: String) -> TOMLNode? {
        entries.first { $0.key == key }?.value
    }

    func finish(_ problems: inout ProblemList) {
        for (key, _) in entries where !knownKeys.contains(key) {
            var message = "unknown key"
            if let suggestion = EditDistance.suggestion(for: key, among: knownKeys) {
                message += "; did you mean '\(suggestion)'?"
            }
            problems.add(path.appending(key), message)
        }
    }

    func string(_ key: String, _ problems: inout ProblemList) -> String? {
        guard let node = node(key) else { return nil }
        guard case .string(let value) = node else {
            problems.add(path.appending(key), "expected a string, got \(node.typeName)")
            return nil
        }
        return value
    }

    func integer(_ key: String, _ problems: inout ProblemList) -> Int? {
        guard let node = node(key) else { return nil }
        guard case .integer(let value) = node else {
            problems.add(path.appending(key), "expected an integer, got \(node.typeName)")
            return nil
        }
        return value
    }

    func boolean(_ key: String, _ problems: inout ProblemList) -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .boolean(let value) = node else {
            problems.add(path.appending(key), "expected a boolean (true or false), got \(node.typeName)")
            return nil
        }
        return value
    }

    /// The longest duration any key may have: a Step Functions execution lasts at most a year,
    /// and larger values would overflow the arithmetic of deadlines.
    static let maxDuration = Duration.seconds(366 * 24 * 3600)

    func duration(_ key: String, _ problems: inout ProblemList) -> Duration? {
        switch node(key) {
        case nil: return nil
        case .integer(let seconds)?:
            guard seconds >= 0 else {
                problems.add(path.appending(key), "must not be negative, got \(seconds)")
                return nil
            }
            guard seconds <= Self.maxDuration.components.seconds else {
                problems.add(path.appending(key), "must be at most 366 days, got \(seconds) seconds")
                return nil
            }
            return .seconds(seconds)
        case .string(let text)?:
            guard let duration = DurationSyntax.parse(text) else {
                problems.add(path.appending(key), "\(DurationSyntax.help), got \"\(text.boundedPrefix())\"")
                return nil
            }
            guard duration <= Self.maxDuration else {
                problems.add(path.appending(key), "must be at most 366 days, got \"\(text.boundedPrefix())\"")
                return nil
            }
            return duration
        case let other?:
            problems.add(path.appending(key), "\(DurationSyntax.help), got \(other.typeName)")
            return nil
        }
    }

    func byteSize(_ key: String, _ problems: inout ProblemList) -> Int? {
        switch node(key) {
        case nil: return nil
        case .integer(let bytes)?: return bytes
        case .string(let text)?:
            guard let bytes = ByteSizeSyntax.parse(text) else {
                problems.add(path.appending(key), "\(ByteSizeSyntax.help), got \"\(text.boundedPrefix())\"")
                return nil
            }
            return bytes
        case let other?:
            problems.add(path.appending(key), "\(ByteSizeSyntax.help), got \(other.typeName)")
            return nil
        }
    }

    func stringArray(_ key: String, _ problems: inout ProblemList) -> [String]? {
        guard let node = node(key) else { return nil }
        guard case .array(let elements) = node else {
            problems.add(path.appending(key), "expected an array of strings, got \(node.typeName)")
            return nil
        }
        var strings: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let value) = element else {
                problems.add(path.appending(key).appending(index: index), "expected a string, got \(element.typeName)")
                return nil
            }
            strings.append(value)
        }
        return strings
    }

    /// A table whose values are all strings (`environment`, `exit_codes`), in key order.
    func stringTable(_ key: String, _ problems: inout ProblemList) -> [(key: String, value: String)]? {
        guard let node = node(key) else { return nil }
        guard case .table(let entries) = node else {
            problems.add(path.appending(key), "expected a table of strings, got \(node.typeName)")
            return nil
        }
        var result: [(key: String, value: String)] = []
        for (entryKey, value) in entries {
            guard case .string(let text) = value else {
                problems.add(path.appending(key).appending(entryKey), "expected a string, got \(value.typeName)")
                continue
            }
            result.append((entryKey, text))
        }
        return result
    }
}
