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

    @Test func successesClimbBackToTheThrottledRateByTheZeroPointThenProbeAbove() throws {
        var rate = AdaptiveRate()
        var t = Self.answer(&rate, perSecond: 20, from: 0, seconds: 3)
        let recorded = rate.record(throttled: true, at: .seconds(t))
        let cut = try #require(recorded)
        let wMax = cut / 0.7
        let k = cbrt(wMax * 0.3 / 0.4)
        // Keep sending at the throttled rate so the "twice the measured rate" cap stays out of the way.
        var limits: [Double] = []
        let end = t + k + 1
        while t < end {
            t += 1.0 / 20
            let recorded = rate.record(throttled: false, at: .seconds(t))
            limits.append(try #require(recorded))
        }
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $0 <= $1 + 1e-9 }, "the limit only rises between throttles")
        #expect(limits.first! < wMax)
        #expect(limits.last! > wMax, "past the zero point the limit probes above the rate that was throttled")
        #expect(abs(limits[Int((k * 20).rounded()) - 1] - wMax) < 0.5, "back at the throttled rate after k seconds")
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

    @Test func aThrottleBelowTheLastCeilingAimsLowerToMakeRoomForOthers() throws {
        // Fast convergence (RFC 8312, 4.6): after a throttle at 20/s and one at 10/s, the curve
        // flattens at 10 * (1 + 0.7) / 2 = 8.5/s, not at 10/s.
        var rate = AdaptiveRate()
        var t = AdaptiveRateTests.answer(&rate, perSecond: 20, from: 0, seconds: 3)
        _ = rate.record(throttled: true, at: .seconds(t))
        t = AdaptiveRateTests.answer(&rate, perSecond: 10, from: t + 0.1, seconds: 4)
        let recorded = rate.record(throttled: true, at: .seconds(t))
        let cut = try #require(recorded)
        let sendingAt = cut / 0.7
        #expect(sendingAt < 13, "the second throttle came at about 10/s")
        let ceiling = sendingAt * 0.85
        let parameters = AdaptiveRate.Parameters()
        let k = cbrt(ceiling * (1 - parameters.beta) / parameters.scale)
        var limit = cut
        let end = t + k
        while t + 0.1 <= end {
            t += 0.1
            let next = rate.record(throttled: false, at: .seconds(t))
            limit = try #require(next)
        }
        #expect(abs(limit - ceiling) < 0.6, "plateau \(limit) against \(ceiling)")
    }
}

@Suite("AdaptiveRate: a quiet start")
struct AdaptiveRateQuietStartTests {
    @Test func aThrottleAfterAQuietStartCutsFromTheRateTheCallsCameAt() throws {
        // The first answers come 30 s after the limiter was made, 100 a second.
        var rate = AdaptiveRate()
        let t = AdaptiveRateTests.answer(&rate, perSecond: 100, from: 30, seconds: 0.1)
        let recorded = rate.record(throttled: true, at: .seconds(t))
        let limit = try #require(recorded)
        #expect(limit > 20, "cut from about 100/s, not from one call per idle second: \(limit)")
    }
}
