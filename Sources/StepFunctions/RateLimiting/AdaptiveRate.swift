/// The send rate of one API, learnt from the service's answers in the spirit of the AWS SDKs'
/// "adaptive" retry mode (botocore `retries/adaptive.py` and `retries/throttling.py`; docs/fleet.md
/// says what was taken and what was changed). Pure: responses come in with the time they arrived,
/// as the offset from any fixed origin, and `limit` says how fast calls may go now.
///
/// - Until the first throttle there is no limit: a worker that is never throttled pays nothing.
/// - A throttle cuts the limit to `beta` of the rate being sent at (the limit in force while calls
///   wait for it; otherwise the measured rate, or the limit if lower): multiplicative decrease.
/// - Each success then raises it along a straight line, `increase` calls/s per second from the
///   cut: additive increase, the same for every daemon whatever its rate. That is what evens out
///   daemons sharing one quota (AIMD, Chiu and Jain 1989): each shortage cuts the larger rate by
///   more, each second raises all by the same. botocore climbs along CUBIC's curve back to the rate
///   each client was throttled at, which keeps whatever ratio the clients had.
/// - A success raises the limit no higher than twice the measured rate, so an idle spell does
///   not bank a burst, except while calls wait for the limit (the measured rate is then the limit
///   itself echoing back, and the cap would hold a starved lane near the floor); and unlike
///   botocore, a success never lowers it.
public struct AdaptiveRate: Sendable, Equatable {
    public struct Parameters: Sendable, Equatable {
        /// Fraction of the throttled rate kept after a throttle (botocore: 0.7).
        public var beta: Double = 0.7
        /// How fast the limit climbs after a cut, calls/s per second (botocore has a cubic instead).
        public var increase: Double = 0.5
        /// The limit is at most this multiple of the measured rate while no call waits (botocore: 2).
        public var maxOverMeasured: Double = 2
        /// The lowest limit, calls/s (botocore's token bucket: 0.5).
        public var minimumRate: Double = 0.5
        /// Measured-rate smoothing: weight of the newest half-second bucket (botocore: 0.8).
        public var smoothing: Double = 0.8
        /// Width of the measuring buckets, s (botocore: 0.5).
        public var bucketSeconds: Double = 0.5

        public init() {}
    }

    public let parameters: Parameters
    /// Calls/s; nil while no throttle has been seen.
    public private(set) var limit: Double?
    /// The smoothed rate of responses, calls/s.
    public private(set) var measuredRate: Double = 0
    /// Where the last cut put the limit, and when.
    private var cutTo: Double = 0
    private var lastThrottle: Double = 0
    /// nil until the first answer: botocore measures from the client's creation, so the first
    /// answer after a quiet start reads as a rate of one call per idle second, and a throttle
    /// then cuts to the floor however fast the calls were actually coming.
    private var bucketStart: Double?
    private var bucketCount: Double = 0
    /// Until the first bucket closes: when the first answer came, and how many since.
    private var firstAnswer: Double?
    private var answers: Double = 0

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// A response arrived at `now` to a call sent at `sentAt` (default: just now): throttled or
    /// not; `backlogged`: calls were waiting for the limit when it came. Returns the new limit.
    ///
    /// Unlike botocore, a throttle answering a call sent before the last cut does not cut again:
    /// the calls in flight when the bucket ran dry come back throttled together, and one empty
    /// bucket is one congestion signal (as TCP reduces once per loss event), not one per call,
    /// which would compound 0.7 into 0.7^n.
    @discardableResult
    public mutating func record(
        throttled: Bool, at now: Duration, sentAt: Duration? = nil, backlogged: Bool = false
    ) -> Double? {
        let t = now.seconds
        measure(at: t)
        if throttled, limit != nil, let sentAt, sentAt.seconds < lastThrottle {
            return limit
        }
        // botocore knows no rate before its first half-second bucket closes, so a throttle in the
        // first half second cuts it to the floor; the rate since the first answer is a better guess.
        let measured = measuredRate > 0 ? measuredRate : Self.rateSince(firstAnswer ?? t, answers: answers, at: t)
        let next: Double
        if throttled {
            // While calls wait for it, the limit is the rate being sent at; the measured rate lags
            // it by an amount that depends on the rate (half-second buckets), and cutting from it
            // would leave two lanes cut at the same moments at different rates for good.
            let sendingAt = limit.map { backlogged ? $0 : min(measured, $0) } ?? measured
            next = sendingAt * parameters.beta
            cutTo = max(parameters.minimumRate, next)
            lastThrottle = t
        } else {
            guard limit != nil else { return nil }
            next = cutTo + parameters.increase * (t - lastThrottle)
        }
        let cap = backlogged ? Double.infinity : parameters.maxOverMeasured * measured
        let capped = max(parameters.minimumRate, min(next, cap))
        // Unlike botocore, a success never lowers the limit: where the measured rate lags the
        // limit (calls that wait between heartbeats, retries asleep), botocore's cap pulls the
        // limit down on successes, the lane sends less, measures less, and spirals to the floor.
        limit = throttled ? capped : max(limit ?? capped, capped)
        return limit
    }

    /// The rate of responses, smoothed over half-second buckets as botocore's RateClocker does.
    private mutating func measure(at t: Double) {
        bucketCount += 1
        answers += 1
        if firstAnswer == nil { firstAnswer = t }
        let bucket = Self.bucket(of: t, width: parameters.bucketSeconds)
        guard let start = bucketStart else {
            bucketStart = bucket
            return
        }
        guard bucket > start else { return }
        if let firstAnswer, start <= firstAnswer {
            // The first bucket: its answers came since the first answer, not over the whole
            // bucket, and there is no earlier rate to smooth with. botocore divides by the whole
            // bucket and smooths against zero, so a throttle just after the first bucket closed
            // cut from a fraction of the rate actually sent (a lane at 16 calls/s read as 3) and
            // the next few throttles took it to the floor.
            measuredRate = Self.rateSince(firstAnswer, answers: bucketCount, at: t)
        } else {
            let current = bucketCount / (bucket - start)
            measuredRate = current * parameters.smoothing + measuredRate * (1 - parameters.smoothing)
        }
        bucketCount = 0
        bucketStart = bucket
    }

    /// The rate of `answers` that came from `first` to `t`: the gaps between them over the time
    /// they took, at least 50 ms (a single answer reads as 20 calls/s). Counting the answers
    /// rather than the gaps read two answers 60 ms apart as 32 calls/s.
    private static func rateSince(_ first: Double, answers: Double, at t: Double) -> Double {
        max(answers - 1, 1) / max(t - first, 0.05)
    }

    private static func bucket(of t: Double, width: Double) -> Double {
        (t / width).rounded(.down) * width
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
