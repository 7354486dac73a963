/// Finds the line a key was written on. TOMLKit's nodes carry no source position, so this reads
/// the file's `[table]`, `[[array]]` and `key =` lines itself. Values are skipped, not parsed:
/// keys inside an inline table or an array point at the line of the key that holds them.
public struct TOMLLineIndex: Sendable {
    private var lines: [ConfigKeyPath: Int] = [:]

    public init(text: String) {
        var scanner = Scanner(scalars: Array(text.unicodeScalars))
        scanner.run()
        lines = scanner.lines
    }

    /// The line of `path`, else of its nearest ancestor written in the file, else 1.
    public func line(for path: ConfigKeyPath) -> Int {
        var candidate = path
        while true {
            if let line = lines[candidate] { return line }
            if candidate.isRoot { return 1 }
            candidate = candidate.parent
        }
    }

    /// Whether `path` itself (not an ancestor) was found in the file.
    public func contains(_ path: ConfigKeyPath) -> Bool {
        lines[path] != nil
    }
}

private struct Scanner {
    let scalars: [Unicode.Scalar]
    var position = 0
    var line = 1
    var lines: [ConfigKeyPath: Int] = [:]
    var arrayCounts: [ConfigKeyPath: Int] = [:]
    var currentTable = ConfigKeyPath.root

    init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    mutating func advance() {
        if current == "\n" { line += 1 }
        position += 1
    }

    mutating func run() {
        while let scalar = current {
            switch scalar {
            case " ", "\t", "\r", "\n": advance()
            case "#": skipComment()
            case "[": header()
            default: keyValue()
            }
        }
    }

    mutating func skipComment() {
        while let scalar = current, scalar != "\n" { advance() }
    }

    mutating func skipBlanks() {
        while current == " " || current == "\t" { advance() }
    }

    mutating func header() {
        let headerLine = line
        let isArray = peek(1) == "["
        advance()
        if isArray { advance() }
        let keys = dottedKey()
        skipToEndOfLine()
        guard !keys.isEmpty else { return }
        var resolved = resolve(Array(keys.dropLast()))
        resolved = resolved.appending(keys[keys.count - 1])
        if isArray {
            let count = arrayCounts[resolved, default: 0]
            arrayCounts[resolved] = count + 1
            record(resolved, headerLine)
            resolved = resolved.appending(index: count)
        }
        record(resolved, headerLine)
        currentTable = resolved
    }

    /// Maps header keys onto paths, adding the index of the last element of each array of tables.
    func resolve(_ keys: [String]) -> ConfigKeyPath {
        var path = ConfigKeyPath.root
        for key in keys {
            path = path.appending(key)
            if let count = arrayCounts[path], count > 0 {
                path = path.appending(index: count - 1)
            }
        }
        return path
    }

    mutating func keyValue() {
        let keyLine = line
        let keys = dottedKey()
        skipBlanks()
        guard !keys.isEmpty, current == "=" else {
            skipToEndOfLine()
            return
        }
        advance()
        var path = currentTable
        for key in keys {
            path = path.appending(key)
            record(path, keyLine)
        }
        skipValue()
    }

    mutating func record(_ path: ConfigKeyPath, _ line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    mutating func dottedKey() -> [String] {
        var keys: [String] = []
        while true {
            skipBlanks()
            guard let key = simpleKey() else { return keys }
            keys.append(key)
            skipBlanks()
            guard current == "." else { return keys }
            advance()
        }
    }

    mutating func simpleKey() -> String? {
        switch current {
        case "\"": return quoted(escapes: true)
        case "'": return quoted(escapes: false)
        default:
            var key = ""
            while let scalar = current, Self.isBare(scalar) {
                key.unicodeScalars.append(scalar)
                advance()
            }
            return key.isEmpty ? nil : key
        }
    }

    static func isBare(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }

    mutating func quoted(escapes: Bool) -> String {
        let quote = current
        advance()
        var text = ""
        while let scalar = current, scalar != quote, scalar != "\n" {
            if escapes, scalar == "\\" {
                advance()
                switch current {
                case "n": text += "\n"
                case "t": text += "\t"
                case "r": text += "\r"
                case "b": text += "\u{08}"
                case "f": text += "\u{0C}"
                case "u", "U": text += unicodeEscape(length: current == "u" ? 4 : 8)
                case let other?: text.unicodeScalars.append(other)
                case nil: break
                }
                if current != nil { advance() }
                continue
            }
            text.unicodeScalars.append(scalar)
            advance()
        }
        if current == quote { advance() }
        return text
    }

    /// Reads `length` hex digits after the `u`; leaves the position on the last one.
    mutating func unicodeEscape(length: Int) -> String {
        var hex = ""
        for offset in 1...length {
            guard let digit = peek(offset), digit.properties.isASCIIHexDigit else { break }
            hex.unicodeScalars.append(digit)
        }
        position += hex.unicodeScalars.count
        guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else { return "" }
        return String(scalar)
    }

    /// Skips a value, which may span lines inside arrays, inline tables and multi-line strings.
    mutating func skipValue() {
        var depth = 0
        while let scalar = current {
            switch scalar {
            case "\n":
                if depth == 0 { return }
                advance()
            case "#": skipComment()
            case "[", "{":
                depth += 1
                advance()
            case "]", "}":
                depth = max(0, depth - 1)
                advance()
            case "\"", "'":
                if peek(1) == scalar, peek(2) == scalar {
                    skipMultilineString(scalar)
                } else {
                    _ = quoted(escapes: scalar == "\"")
                }
            default: advance()
            }
        }
    }

    mutating func skipMultilineString(_ quote: Unicode.Scalar) {
        position += 3
        while let scalar = current {
            if scalar == "\\", quote == "\"" {
                advance()
                advance()
                continue
            }
            if scalar == quote, peek(1) == quote, peek(2) == quote {
                position += 3
                while current == quote { position += 1 }  // up to two quotes may end the content
                return
            }
            advance()
        }
    }

    mutating func skipToEndOfLine() {
        while let scalar = current, scalar != "\n" { advance() }
    }
}
