import TOMLKit

/// A TOML syntax error, with the position the parser reported.
public struct TOMLSyntaxError: Error, Sendable, Equatable {
    public var line: Int
    public var column: Int
    public var message: String
}
