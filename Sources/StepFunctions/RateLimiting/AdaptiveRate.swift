#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FoundationEssentials

/// The send rate of one API, decided the way the AWS SDKs' "adaptive" retry mode decides it
/// (botocore `retries/adaptive.py` and `retries/throttling.py`; docs/fleet.md says what was taken
/// and what was changed). Pure: responses come in with the time they arrived, as the offset from
/// any fixed origin, and `limit` says how fast calls may go now.
///
/// - Until the first throttle there is no limit: a worker that is never throttled pays nothing.
/// - A throttle sets the ceiling `wMax` to the rate being sent at (measured, or the limit already
///   in force if lower) and cuts the limit to `beta` of it (multiplicative decrease).
/// - Each success then raises the limit along the cubic `scale * (t - k)^3 + wMax`, where `t` is the
///   time since the last throttle and `k` the time the curve takes to climb back to `wMax`: fast
///   at first, flat near the rate that was throttled, then probing above it.
/// - A success raises the limit no higher than twice the measured rate, so an idle spell does
///   not bank a burst (and, unlike botocore, never lowers it).
public struct AdaptiveRate: Sendable, Equatable {
    public struct Parameters: Sendable, Equatable {
        /// Fraction of the throttled rate kept after a throttle (botocore: 0.7).
        public var beta: Double = 0.7
        /// How steeply the cubic climbs, in calls/s per s^3 (botocore: 0.4).
        public var scale: Double = 0.4
        /// The limit is at most this multiple of the measured rate (botocore: 2).
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
    private var wMax: Double = 0
    private var k: Double = 0
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
    /// not. Returns the new limit.
    ///
    /// Unlike botocore, a throttle answering a call sent before the last cut does not cut again:
    /// the calls in flight when the bucket ran dry come back throttled together, and one empty
    /// bucket is one congestion signal (as TCP's CUBIC reduces once per loss event), not one per
    /// call, which would compound 0.7 into 0.7^n.
    @discardableResult
    public mutating func record(throttled: Bool, at now: Duration, sentAt: Duration? = nil) -> Double? {
        let t = now.seconds
        measure(at: t)
        if throttled, limit != nil, let sentAt, sentAt.seconds < lastThrottle {
            return limit
        }
        // botocore knows no rate before its first half-second bucket closes, so a throttle in the
        // first half second cuts it to the floor; the rate since the first answer is a better guess.
        let measured = measuredRate > 0 ? measuredRate : answers / max(t - (firstAnswer ?? t), 0.05)
        let next: Double
        if throttled {
            let sendingAt = limit.map { min(measured, $0) } ?? measured
            // CUBIC's fast convergence (RFC 8312, 4.6), which botocore leaves out: throttled
            // below the last ceiling means others are taking a larger share; aim lower, to make
            // room for them. It helps daemons sharing a quota even out (not yet enough: docs/fleet.md).
            wMax = sendingAt < wMax ? sendingAt * (1 + parameters.beta) / 2 : sendingAt
            k = Self.zeroPoint(wMax: wMax, beta: parameters.beta, scale: parameters.scale)
            lastThrottle = t
            next = sendingAt * parameters.beta
        } else {
            guard limit != nil else { return nil }
            let dt = t - lastThrottle - k
            next = parameters.scale * dt * dt * dt + wMax
        }
        let capped = max(parameters.minimumRate, min(next, parameters.maxOverMeasured * measured))
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
        let current = bucketCount / (bucket - start)
        measuredRate = current * parameters.smoothing + measuredRate * (1 - parameters.smoothing)
        bucketCount = 0
        bucketStart = bucket
    }

    private static func bucket(of t: Double, width: Double) -> Double {
        (t / width).rounded(.down) * width
    }

    /// The time the cubic takes to climb from `beta * wMax` back to `wMax`.
    static func zeroPoint(wMax: Double, beta: Double, scale: Double) -> Double {
        cbrt(max(0, wMax * (1 - beta) / scale))
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
