/// `arn:<partition>:states:<region>:<12 digits>:activity:<name>`.
public struct ActivityARN: Sendable, Hashable, CustomStringConvertible {
    public let partition: String
    public let region: String
    public let account: String
    public let name: String
    /// The ARN as text, made once: every poll, started record and handler environment sends it.
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7, parts[0] == "arn", parts[2] == "states", parts[5] == "activity" else { return nil }
        let (partition, region, account, name) = (parts[1], parts[3], parts[4], parts[6])
        guard Self.isToken(partition), Self.isToken(region),
            account.count == 12, account.allSatisfy({ $0.isASCII && $0.isNumber }),
            (1...80).contains(name.count), Self.isActivityName(name)
        else { return nil }
        self.partition = partition
        self.region = region
        self.account = account
        self.name = name
        description = "arn:\(partition):states:\(region):\(account):activity:\(name)"
    }

    // The text determines every part.
    public static func == (lhs: ActivityARN, rhs: ActivityARN) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// Activity names: letters, digits, `-` and `_` (the service also forbids whitespace,
    /// brackets, wildcards and control characters; this is the safe subset).
    private static func isActivityName(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-", ".": true
            default: false
            }
        }
    }
}
