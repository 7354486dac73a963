/// How the daemon talks to an activity's handler (`protocol` in `[[activity]]`).
public enum HandlerProtocol: String, Sendable, Equatable, CaseIterable {
    /// One process per task: input on stdin, result on stdout (DESIGN section 4).
    case stdio
    /// Long-lived processes that speak the AWS Lambda Runtime API (2018-06-01) on a loopback
    /// listener of their own, one task at a time each (docs/handlers.md).
    case lambda
}
