import Foundation
import StepFunctions
import Testing

@Suite("AdaptiveRate: the SDKs' adaptive send rate, as a pure function of answers and time")
struct AdaptiveRateTests {
    /// Answers at `perSecond` from `start` for `seconds`; returns the time after the last one.
    @discardableResult
    static func answer(_ rate: inout AdaptiveRate, perSecond: Int, from start: Double, seconds: Double) -> Double {
        let count = Int(Double(perSecond) * seconds)
        var t = start
        for _ in 0..<count {
            rate.record(throttled: false, at: .seconds(t))
            t += 1 / Double(perSecond)
        }
        return t
    }

    @Test func thereIsNoLimitUntilTheFirstThrottle() {
        var rate = AdaptiveRate()
        Self.answer(&rate, perSecond: 50, from: 0, seconds: 3)
        #expect(rate.limit == nil)
        #expect(rate.measuredRate > 45)
    }

    @Test func aThrottleCutsTheLimitToBetaOfTheRateBeingSent() throws {
        var rate = AdaptiveRate()
        let t = Self.answer(&rate, perSecond: 20, from: 0, seconds: 3)
        let recorded = rate.record(throttled: true, at: .seconds(t))
        let limit = try #require(recorded)
        #expect(abs(limit - 0.7 * rate.measuredRate) < 0.01)
        #expect(limit > 12 && limit < 17, "about 0.7 x 20/s")
    }

    @Test func successesRaiseTheLimitByTheSameStepEverySecondFromTheCut() throws {
        var rate = AdaptiveRate()
        var t = Self.answer(&rate, perSecond: 20, from: 0, seconds: 3)
        let cutAt = t
        let recorded = rate.record(throttled: true, at: .seconds(t))
        let cut = try #require(recorded)
        // Keep sending at the throttled rate so the "twice the measured rate" cap stays out of the way.
        var limits: [(t: Double, limit: Double)] = []
        while t < cutAt + 4 {
            t += 1.0 / 20
            let recorded = rate.record(throttled: false, at: .seconds(t))
            limits.append((t, try #require(recorded)))
        }
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $0.limit <= $1.limit + 1e-9 }, "the limit only rises between throttles")
        let step = AdaptiveRate.Parameters().increase
        for (t, limit) in limits {
            #expect(abs(limit - (cut + step * (t - cutAt))) < 1e-9, "\(step) calls/s more every second: \(limit) at \(t - cutAt) s")
        }
    }

    @Test func aSuccessRaisesTheLimitNoHigherThanTwiceTheMeasuredRateAndNeverLowersIt() throws {
        var rate = AdaptiveRate()
        var t = Self.answer(&rate, perSecond: 4, from: 0, seconds: 2)
        let throttled = rate.record(throttled: true, at: .seconds(t))
        let cut = try #require(throttled)
        // A long quiet spell, then one answer: the cubic says "very fast", the cap says no.
        t += 30
        let recorded = rate.record(throttled: false, at: .seconds(t))
        let limit = try #require(recorded)
        #expect(limit <= max(cut, 2 * rate.measuredRate) + 1e-9, "\(limit)")
        #expect(limit >= cut, "a success never lowers the limit")
        // Throttles, each a call's spacing after the last, drive it down to the floor and no further.
        for _ in 1...40 {
            t += 3
            _ = rate.record(throttled: true, at: .seconds(t))
        }
        #expect(rate.limit == AdaptiveRate.Parameters().minimumRate)
    }
}

@Suite("AdaptiveRate: where it departs from botocore")
struct AdaptiveRateDeparturesTests {
    @Test func throttlesOfCallsSentBeforeTheLastCutDoNotCutAgain() throws {
        var rate = AdaptiveRate()
        let t = AdaptiveRateTests.answer(&rate, perSecond: 20, from: 0, seconds: 3)
        let first = rate.record(throttled: true, at: .seconds(t), sentAt: .seconds(t - 0.01))
        // Three more calls that were in flight when the bucket ran dry come back throttled.
        for n in 1...3 {
            let again = rate.record(throttled: true, at: .seconds(t + 0.001 * Double(n)), sentAt: .seconds(t - 0.005))
            #expect(again == first)
        }
        // A call sent after the cut that is throttled again is a new signal.
        let later = rate.record(throttled: true, at: .seconds(t + 0.2), sentAt: .seconds(t + 0.1))
        #expect(try #require(later) < (try #require(first)))
    }

    @Test func whileCallsWaitForTheLimitTheMeasuredRateDoesNotCapItsRise() throws {
        // A lane cut to the floor measures only the few calls its limit lets go; capped at twice
        // that, it would climb out one doubling per measurement. With calls waiting, it climbs
        // along the line.
        var capped = AdaptiveRate()
        var t = AdaptiveRateTests.answer(&capped, perSecond: 2, from: 0, seconds: 3)
        for _ in 1...6 {
            t += 0.5
            _ = capped.record(throttled: true, at: .seconds(t))
        }
        #expect(capped.limit == AdaptiveRate.Parameters().minimumRate)
        var backlogged = capped
        let cutAt = t
        t += 4
        let cappedLimit = capped.record(throttled: false, at: .seconds(t))
        let backloggedLimit = backlogged.record(throttled: false, at: .seconds(t), backlogged: true)
        let withCap = try #require(cappedLimit)
        let withBacklog = try #require(backloggedLimit)
        #expect(withCap <= 2 * capped.measuredRate + 1e-9)
        #expect(abs(withBacklog - (0.5 + AdaptiveRate.Parameters().increase * (t - cutAt))) < 1e-9, "\(withBacklog)")
        #expect(withBacklog > withCap)
    }

    @Test func aThrottleJustAfterTheFirstBucketClosedCutsFromTheRateTheCallsCameAt() throws {
        // 16 answers/s for a quarter second, then a throttle, with the first answer anywhere in
        // the first half-second bucket. botocore counts the first bucket over its whole width and
        // smooths it against zero: a first answer late in the bucket read as 3 calls/s, not 16.
        let bucket = AdaptiveRate.Parameters().bucketSeconds
        for step in 0..<10 {
            let start = Double(step) * bucket / 10
            var rate = AdaptiveRate()
            let t = AdaptiveRateTests.answer(&rate, perSecond: 16, from: start, seconds: 0.25)
            let recorded = rate.record(throttled: true, at: .seconds(t), sentAt: .seconds(t - 0.005))
            let cut = try #require(recorded)
            // 0.7 x 16/s, give or take the 4 answers' spacing the estimate counts over.
            #expect(cut > 0.7 * 16 * 0.9 && cut < 0.7 * 16 * 1.5, "first answer \(start) s into its bucket: cut to \(cut)")
        }
    }
}

@Suite("AdaptiveRate: daemons sharing one quota")
struct AdaptiveRateSharingTests {
    /// Rates behind one token bucket (`refill` tokens/s, `burst`), each with calls always waiting,
    /// sent one at a time `1 / limit` s apart on average (spacing jittered by up to half either
    /// way, as scheduling and the network jitter real calls); returns each one's successful calls
    /// over `seconds` after `settle` s, and the share of all calls throttled.
    static func share(
        starting: [Double], refill: Double, burst: Double, seconds: Double, settle: Double, seed: UInt64
    ) -> (calls: [Double], throttled: Double) {
        var rates = starting.map { _ in AdaptiveRate() }
        var next = starting.map { 1 / $0 }
        var sentAfterLastAnswer = starting.map { _ in 0.0 }
        var tokens = burst
        var clock = 0.0
        var successes = starting.map { _ in 0.0 }
        var total = 0.0
        var throttled = 0.0
        var random = SeededRandom(seed: seed)
        // The first rate each one sends at, until its first throttle sets a limit.
        let opening = starting
        while clock < settle + seconds {
            let i = next.indices.min { next[$0] < next[$1] }!
            tokens = min(burst, tokens + (next[i] - clock) * refill)
            clock = next[i]
            let ok = tokens >= 1
            if ok { tokens -= 1 }
            if clock >= settle {
                total += 1
                if ok { successes[i] += 1 } else { throttled += 1 }
            }
            let sentAt = sentAfterLastAnswer[i]
            rates[i].record(throttled: !ok, at: .seconds(clock), sentAt: .seconds(sentAt), backlogged: true)
            sentAfterLastAnswer[i] = clock
            next[i] = clock + (0.5 + random.unit()) / (rates[i].limit ?? opening[i])
        }
        return (successes, throttled / total)
    }

    @Test func ratesCutTogetherConvergeWhateverTheyStartedAt() throws {
        // Additive increase, multiplicative decrease: every shared shortage cuts the larger rate
        // by more, every second raises both by the same, so the gap shrinks by beta per shortage.
        // (A climb back towards each one's own throttled rate, as CUBIC's, keeps their ratio.)
        var fast = AdaptiveRate()
        var slow = AdaptiveRate()
        var t = AdaptiveRateTests.answer(&fast, perSecond: 16, from: 0, seconds: 2)
        _ = AdaptiveRateTests.answer(&slow, perSecond: 4, from: 0, seconds: 2)
        for _ in 1...20 {
            _ = fast.record(throttled: true, at: .seconds(t), backlogged: true)
            _ = slow.record(throttled: true, at: .seconds(t), backlogged: true)
            let end = t + 3
            var nextFast = t, nextSlow = t
            while min(nextFast, nextSlow) < end {
                if nextFast <= nextSlow {
                    nextFast += 1 / (fast.record(throttled: false, at: .seconds(nextFast), backlogged: true) ?? 1)
                } else {
                    nextSlow += 1 / (slow.record(throttled: false, at: .seconds(nextSlow), backlogged: true) ?? 1)
                }
            }
            t = end
        }
        let a = try #require(fast.limit), b = try #require(slow.limit)
        #expect(abs(a - b) / (a + b) < 0.05, "\(a) against \(b)")
    }

    @Test func fourDaemonsBehindOneBucketShareItEvenlyAndUseIt() {
        // One daemon starts at 4 times the others' rate; 20 calls/s are there for all of them.
        // Which daemon a throttle hits is chance, so a single run's split is noisy (docs/fleet.md):
        // over ten runs, the largest share off the mean stays small on average.
        var worst: [Double] = []
        for seed in 1...10 {
            let run = Self.share(starting: [40, 10, 10, 10], refill: 20, burst: 120, seconds: 100, settle: 20, seed: UInt64(seed))
            let mean = run.calls.reduce(0, +) / Double(run.calls.count)
            worst.append(run.calls.map { abs($0 - mean) / mean }.max()!)
            #expect(mean * 4 > 0.97 * 20 * 100, "the quota is used: \(run.calls)")
            #expect(run.throttled < 0.1, "\(run.throttled)")
        }
        let average = worst.reduce(0, +) / Double(worst.count)
        #expect(average < 0.2, "largest share off the mean per run: \(worst)")
    }
}

/// A small deterministic generator (SplitMix64), so the simulated fleet runs the same every time.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
