/// When heartbeats go out: every `interval`, shortened by up to 20% at random each time, so
/// tasks started together drift apart instead of heartbeating in bunches, and no gap is ever
/// longer than the interval the operator configured.
public struct HeartbeatSchedule: Sendable, Equatable {
    public var interval: Duration

    public init(interval: Duration) {
        self.interval = interval
    }

    /// The wait before the next heartbeat; `unitRandom` is uniform in [0, 1).
    public func delay(unitRandom: Double) -> Duration {
        interval * (1.0 - 0.2 * min(max(unitRandom, 0), 1))
    }
}
