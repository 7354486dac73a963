import POSIXSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Stops taking tasks for a while when handlers cannot be started for want of a resource the
/// whole daemon shares (descriptors, processes, memory), instead of receiving task after task
/// only to fail each with `Handler.LaunchFailed`: a daemon at its descriptor limit would
/// otherwise empty the queue into failures within seconds. The task whose start failed still
/// fails (it was received); the pollers of every activity wait out the pause before their next
/// poll, and `STATUS=` and the log say why.
public final class LaunchPause: Sendable {
    /// The rules, on a monotonic time given as a `Duration` since any fixed point.
    struct Rules: Equatable, Sendable {
        static let firstPause = Duration.seconds(1)
        static let longestPause = Duration.seconds(30)

        private(set) var failures = 0
        private(set) var until: Duration?
        private(set) var reason = ""

        /// Whether `errno` from a handler's start is a shortage of the daemon's resources rather
        /// than a fault of the one handler (a missing file, a bad directory).
        static func isShortage(_ errno: Int32) -> Bool {
            errno == EMFILE || errno == ENFILE || errno == EAGAIN || errno == ENOMEM
        }

        /// A start failed for want of a resource: pause 1 s, doubling while starts keep
        /// failing, at most 30 s. Returns the pause.
        mutating func shortage(_ reason: String, at now: Duration) -> Duration {
            failures += 1
            let pause = min(Self.firstPause * (1 << min(failures - 1, 16)), Self.longestPause)
            until = now + pause
            self.reason = reason
            return pause
        }

        /// A handler started: the next shortage starts from a short pause again. True when
        /// this ended a pause (worth a line in the log).
        mutating func launched() -> Bool {
            defer { (failures, until) = (0, nil) }
            return failures > 0
        }

        /// How long pollers must still wait; nil when they need not.
        func remaining(at now: Duration) -> Duration? {
            guard let until, until > now else { return nil }
            return until - now
        }
    }

    private let rules = Mutex(Rules())
    /// Whether a shortage is being waited out (`Rules.failures > 0`): read first, so the poll
    /// loop and every task's end cost one atomic load, not a lock and a clock read.
    private let active = Atomic<Bool>(false)
    private let now: @Sendable () -> Duration

    /// - Parameter now: monotonic time (a test passes its clock's).
    public init(now: @escaping @Sendable () -> Duration = LaunchPause.monotonicNow) {
        self.now = now
    }

    public static func monotonicNow() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    /// A handler could not start; returns the pause when `errno` is a shared shortage.
    func startFailed(errno: Int32, reason: String) -> Duration? {
        guard Rules.isShortage(errno) else { return nil }
        let time = now()
        return rules.withLock { rules in
            active.store(true, ordering: .relaxed)
            return rules.shortage(reason, at: time)
        }
    }

    /// A handler started; true when that ended a pause.
    func started() -> Bool {
        guard active.load(ordering: .relaxed) else { return false }
        return rules.withLock { rules in
            active.store(false, ordering: .relaxed)
            return rules.launched()
        }
    }

    /// How long pollers must still wait before their next poll; nil when they need not.
    public var remaining: Duration? {
        guard active.load(ordering: .relaxed) else { return nil }
        let time = now()
        return rules.withLock { $0.remaining(at: time) }
    }

    /// For `STATUS=`: why tasks are not being taken, while they are not.
    public var statusNote: String? {
        guard active.load(ordering: .relaxed) else { return nil }
        let time = now()
        return rules.withLock { rules in
            rules.remaining(at: time) == nil ? nil : "paused: cannot start handlers (\(rules.reason))"
        }
    }
}
