import Logging
import Synchronization

/// Refused connections, logged at a bounded rate: the first refusal of a window is logged, the
/// rest are counted and the count rides with the next line. A local user connecting in a loop
/// gets one line per `interval`, not one per connection.
final class RefusalLog: Sendable {
    /// The decision, with no clock or logger.
    struct Budget: Equatable, Sendable {
        let interval: Duration
        private var windowStart: ContinuousClock.Instant?
        private var suppressed = 0

        init(interval: Duration) {
            self.interval = interval
        }

        /// nil: count this one and log nothing; a number: log now, saying that many were not.
        mutating func record(at now: ContinuousClock.Instant) -> Int? {
            if let start = windowStart, now - start < interval {
                suppressed += 1
                return nil
            }
            windowStart = now
            defer { suppressed = 0 }
            return suppressed
        }
    }

    private let budget: Mutex<Budget>
    private let logger: Logger

    init(interval: Duration = .seconds(10), logger: Logger) {
        budget = Mutex(Budget(interval: interval))
        self.logger = logger
    }

    /// Logs `message` with `metadata` and the count of refusals since the last line, unless a
    /// line was written less than `interval` ago.
    func refused(_ message: Logger.Message, metadata: Logger.Metadata) {
        guard let earlier = budget.withLock({ $0.record(at: .now) }) else { return }
        var metadata = metadata
        metadata["refused_since_last"] = "\(earlier)"
        logger.warning(message, metadata: metadata)
    }
}
