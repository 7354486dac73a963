import TOMLKit

/// A parsed TOML document as plain Sendable values. TOMLKit's own types are neither Sendable nor
/// positioned, so the document is converted once, right after parsing, and TOMLKit stays here.
public indirect enum TOMLNode: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    /// Dates and times: kept only as their TOML type name, since no key of ours takes one.
    case dateTime(String)
    case array([TOMLNode])
    /// Keys in file order is not something TOMLKit keeps; they are sorted for stable reports.
    case table([(key: String, value: TOMLNode)])

    public static func == (lhs: TOMLNode, rhs: TOMLNode) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.float(a), .float(b)): a == b
        case let (.boolean(a), .boolean(b)): a == b
        case let (.dateTime(a), .dateTime(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.table(a), .table(b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    /// How a type is named in messages ("expected a string, got an integer").
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .dateTime(let kind): "a \(kind)"
        case .array: "an array"
        case .table: "a table"
        }
    }

    public func value(forKey key: String) -> TOMLNode? {
        guard case .table(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }
}

public enum TOMLDocument {
    /// Parses TOML text into a `TOMLNode.table`, or throws `TOMLSyntaxError`.
    public static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLNode {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw TOMLSyntaxError(
                line: error.source.begin.line, column: error.source.begin.column, message: error.description)
        } catch {
            throw TOMLSyntaxError(line: 1, column: 1, message: "\(error)")
        }
        return convert(table)
    }

    private static func convert(_ value: any TOMLValueConvertible) -> TOMLNode {
        switch value.type {
        case .string: return .string(value.string ?? "")
        case .int: return .integer(value.int ?? 0)
        case .double: return .float(value.double ?? 0)
        case .bool: return .boolean(value.bool ?? false)
        case .date: return .dateTime("date")
        case .time: return .dateTime("time")
        case .dateTime: return .dateTime("date-time")
        case .array:
            guard let array = value.array else { return .array([]) }
            return .array(array.map { convert($0) })
        case .table:
            guard let table = value.table else { return .table([]) }
            return convert(table)
        }
    }

    private static func convert(_ table: TOMLTable) -> TOMLNode {
        var entries: [(key: String, value: TOMLNode)] = []
        for (key, value) in table {
            entries.append((key, convert(value)))
        }
        return .table(entries.sorted { $0.key < $1.key })
    }
}
