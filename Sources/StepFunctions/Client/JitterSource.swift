

/// Where the jitter comes from: the system generator, or a fixed sequence in tests.
public protocol JitterSource: Sendable {
    /// A number uniform in [0, 1).
    func next() -> Double
}
