import Crypto

/// A task token: an opaque credential for one task. It is never logged whole: `description` and
/// `fingerprint` are a short hash, the `STEPWORKER_TASK_ID` that logs and handlers see.
public struct TaskToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// The first 16 hex digits of the token's SHA-256: enough to tell tasks apart, useless to
    /// anyone who wants to act on the task.
    public var fingerprint: String {
        String(Hex.encode(SHA256.hash(data: Array(rawValue.utf8))).prefix(16))
    }

    public var description: String { fingerprint }
    public var debugDescription: String { "TaskToken(\(fingerprint))" }
}
