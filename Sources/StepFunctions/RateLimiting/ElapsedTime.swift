/// A clock read as the time since a fixed origin, with its sleep: what the rate limiter needs of
/// any `Clock<Duration>` (the real one, or a test's), with the instant type erased.
struct ElapsedTime: Sendable {
    let now: @Sendable () -> Duration
    let sleep: @Sendable (Duration) async throws -> Void

    init(_ clock: any Clock<Duration>) {
        self = Self.reading(clock)
    }

    private init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    private static func reading<C: Clock<Duration>>(_ clock: C) -> ElapsedTime {
        let origin = clock.now
        return ElapsedTime(
            now: { origin.duration(to: clock.now) },
            sleep: { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) })
    }
}
