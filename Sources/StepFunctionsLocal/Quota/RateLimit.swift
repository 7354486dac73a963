import FoundationEssentials
import POSIXSupport

/// A token bucket's size: `burst` calls at once, then `refillPerSecond` calls per second
/// (Step Functions: 3,000 / 500 per API in the large regions, 1,500 / 300 elsewhere).
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public var burst: Int
    public var refillPerSecond: Double

    public init(burst: Int, refillPerSecond: Double) {
        self.burst = burst
        self.refillPerSecond = refillPerSecond
    }

    public var description: String { "\(burst)/\(refillPerSecond)" }

    /// What `--rate-limit` was given that it cannot take.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// The operations the endpoint serves, which a limit can name.
    public static let operations: [String] = ServiceAPI.Operation.allCases.map(\.rawValue)

    /// Parses `GetActivityTask=120/20,SendTaskHeartbeat=120/20`: `OPERATION=BURST/REFILL` items,
    /// comma-separated, for operations of `known`. Every problem is named with its item.
    public static func parse(_ text: String, known: [String] = operations) throws(ParseError) -> [String: RateLimit] {
        var limits: [String: RateLimit] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ String($0.trimmingWhitespace()) }) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ParseError(description: "\"\(item)\": expected OPERATION=BURST/REFILL, e.g. GetActivityTask=120/20")
            }
            let (operation, value) = (parts[0], parts[1])
            guard known.contains(operation) else {
                throw ParseError(description: "\"\(item)\": unknown operation \(operation) (one of \(known.joined(separator: ", ")))")
            }
            let numbers = value.split(separator: "/", maxSplits: 1).map(String.init)
            guard numbers.count == 2, let burst = Int(numbers[0]), burst >= 1,
                let refill = Double(numbers[1]), refill.isFinite, refill >= 0
            else {
                throw ParseError(description: "\"\(item)\": BURST must be a whole number of at least 1 and REFILL a number of calls per second, at least 0")
            }
            guard limits[operation] == nil else { throw ParseError(description: "\"\(item)\": \(operation) is limited twice") }
            limits[operation] = RateLimit(burst: burst, refillPerSecond: refill)
        }
        return limits
    }
}
