import NIOCore
import NIOPosix

/// `ContinuousClock`'s time, with sleeps that free their timer when cancelled.
///
/// The runtime's `Task.sleep` on Linux arms a dispatch timer (`dispatch_after`) that cancellation
/// does not disarm: the sleep returns at once, but its timer and job (about 600 bytes) stay until
/// the deadline (swiftlang/swift#89075, open as of Swift 6.3). When every task's heartbeat slept
/// on its own (before `HeartbeatScheduler`), each was cancelled when its handler exited, so with
/// the default 60 s interval the daemon held a minute's worth of tasks' timers: RSS grew with the
/// task rate. The heartbeat timer and the retry waits are still cancelled early. An event loop's
/// scheduled task leaves the loop's queue when cancelled.
public struct EventLoopClock: Clock {
    public typealias Instant = ContinuousClock.Instant

    private let base = ContinuousClock()
    private let eventLoop: any EventLoop

    /// Sleeps on one of NIO's shared event loops (the threads the HTTP client uses already).
    public init() {
        self.init(eventLoop: MultiThreadedEventLoopGroup.singleton.any())
    }

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public var now: Instant { base.now }
    public var minimumResolution: Duration { base.minimumResolution }

    /// Throws `CancellationError` when the calling task is (or gets) cancelled, as `Task.sleep` does.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let delay = now.duration(to: deadline)
        guard delay > .zero else { return }
        let scheduled = eventLoop.scheduleTask(in: .nanoseconds(Self.nanoseconds(delay))) {}
        do {
            try await withTaskCancellationHandler {
                try await scheduled.futureResult.get()
            } onCancel: {
                scheduled.cancel()
            }
        } catch {
            throw CancellationError()  // cancelled, or the loop shut down (the daemon is exiting)
        }
    }

    /// `duration` in whole nanoseconds, capped at `Int64.max` (292 years).
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, overflow) = duration.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, overflowed) = seconds.addingReportingOverflow(duration.components.attoseconds / 1_000_000_000)
        return overflowed ? .max : total
    }
}
