import POSIXSupport

/// Where a value lives in the configuration file, as users read it: `activity[1].concurrency`,
/// `activity[0].exit_codes."75"`. Array indices count from 0.
public struct ConfigKeyPath: Hashable, Sendable, CustomStringConvertible, Comparable {
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    public static let root = ConfigKeyPath()

    public func appending(_ key: String) -> ConfigKeyPath {
        ConfigKeyPath(components + [.key(key)])
    }

    public func appending(index: Int) -> ConfigKeyPath {
        ConfigKeyPath(components + [.index(index)])
    }

    /// This path without its last component (the root stays the root).
    public var parent: ConfigKeyPath {
        ConfigKeyPath(Array(components.dropLast()))
    }

    public var isRoot: Bool { components.isEmpty }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                // A key from the file is a value from outside: quoted up to a bound.
                text += Self.render(key: key.boundedPrefix())
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    public static func < (lhs: ConfigKeyPath, rhs: ConfigKeyPath) -> Bool {
        lhs.description < rhs.description
    }

    /// A key as TOML would need it written: bare when it can be, else a quoted string.
    static func render(key: String) -> String {
        let bare = !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
            default: false
            }
        }
        return bare ? key : JSONText.encode(key)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
