/// One thing wrong with a configuration file, at a line and key path.
public struct ConfigurationProblem: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line; 0 when the file could not be read at all.
    public var line: Int
    /// Empty for problems of the file as a whole (syntax errors, unreadable file).
    public var keyPath: ConfigKeyPath
    public var message: String

    public init(file: String, line: Int, keyPath: ConfigKeyPath, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    /// `FILE:LINE: key.path: message`, or `FILE:LINE: message` when no key is involved.
    public var description: String {
        let location = line > 0 ? "\(file):\(line)" : file
        return keyPath.isRoot ? "\(location): \(message)" : "\(location): \(keyPath): \(message)"
    }
}

/// A problem found while reading or validating, before it is given a file and a line.
struct PathProblem: Hashable, Sendable {
    var keyPath: ConfigKeyPath
    var message: String
}

/// Collects problems as validation goes; never stops at the first.
struct ProblemList: Sendable {
    private(set) var problems: [PathProblem] = []

    mutating func add(_ keyPath: ConfigKeyPath, _ message: String) {
        problems.append(PathProblem(keyPath: keyPath, message: message))
    }

    var isEmpty: Bool { problems.isEmpty }
}
