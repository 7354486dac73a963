/// The INI dialect of `~/.aws/config` and `~/.aws/credentials`, as botocore reads it.
///
/// - `[section]` headers, whose name is trimmed; text after the closing `]` is ignored.
/// - `key = value` (or `key: value`); keys are lowercased, values trimmed; a later key wins.
/// - Whole-line comments start with `#` or `;`. A `#` or `;` inside a value is kept, since a
///   secret or a command line may hold one.
/// - An indented line continues the key above it. Under a key with an empty value, indented
///   `key = value` lines form a nested sub-section (`s3 =` then `  max_concurrent_requests = 10`),
///   kept in `subsections` and otherwise ignored.
/// - Lines that fit none of these (outside any section, or without `=`) are skipped.
import POSIXSupport
struct INIFile: Equatable, Sendable {
    struct Section: Equatable, Sendable {
        var name: String
        var properties: [String: String] = [:]
        /// `parent key` -> nested properties.
        var subsections: [String: [String: String]] = [:]
    }

    /// In file order; a name may repeat (later sections win when merged by `properties(of:)`).
    var sections: [Section] = []

    init(parsing text: String) {
        var current: Section?
        var lastKey: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"
            if indented, current != nil, let key = lastKey {
                if current!.properties[key, default: ""].isEmpty || current!.subsections[key] != nil {
                    if let property = Self.property(trimmed) {
                        current!.subsections[key, default: [:]][property.key] = property.value
                    }
                } else {
                    current!.properties[key]! += "\n" + trimmed
                }
                continue
            }
            if trimmed.hasPrefix("[") {
                if let section = current { sections.append(section) }
                lastKey = nil
                guard let close = trimmed.firstIndex(of: "]") else {
                    current = nil  // a broken header: skip its body rather than misfile it
                    continue
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingWhitespace()
                current = Section(name: String(name))
                continue
            }
            guard current != nil, let property = Self.property(trimmed) else {
                lastKey = nil
                continue
            }
            current!.properties[property.key] = property.value
            current!.subsections[property.key] = nil
            lastKey = property.key
        }
        if let section = current { sections.append(section) }
    }

    /// The properties of every section called `name`, merged in file order.
    func properties(of name: String) -> [String: String]? {
        let matching = sections.filter { $0.name == name }
        guard !matching.isEmpty else { return nil }
        return matching.reduce(into: [:]) { merged, section in
            merged.merge(section.properties) { _, later in later }
        }
    }

    private static func property(_ line: Substring) -> (key: String, value: String)? {
        guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
        let key = line[..<separator].trimmingWhitespace().lowercased()
        guard !key.isEmpty else { return nil }
        let value = line[line.index(after: separator)...].trimmingWhitespace()
        return (key, String(value))
    }
}
