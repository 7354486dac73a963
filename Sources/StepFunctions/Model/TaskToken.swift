import Crypto

/// A task token: an opaque credential for one task. It is never logged whole: `description` and
/// `fingerprint` are a short hash, the `STEPWORKER_TASK_ID` that logs and handlers see.
public struct TaskToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let rawValue: String
    /// The first 16 hex digits of the token's SHA-256: enough to tell tasks apart, useless to
    /// anyone who wants to act on the task. Hashed once, here: a task's log lines, records and
    /// metrics ask for it several times, and a token can be 2 KB (the profile had it at 9% of
    /// the daemon's instructions when it was hashed on every use).
    public let fingerprint: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
        self.fingerprint = String(Hex.encode(SHA256.hash(data: Array(rawValue.utf8))).prefix(16))
    }

    public static func == (lhs: TaskToken, rhs: TaskToken) -> Bool { lhs.rawValue == rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String { fingerprint }
    public var debugDescription: String { "TaskToken(\(fingerprint))" }
}
