/// What stdout of a successful handler is.
public enum OutputMode: String, Sendable, Equatable, CaseIterable {
    /// stdout must be JSON text, sent as is.
    case json
    /// stdout is text, sent as a JSON string.
    case text
}
