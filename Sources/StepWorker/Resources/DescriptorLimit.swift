import CSpawn
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The daemon's `RLIMIT_NOFILE`. systemd starts services with a soft limit of 1024 and a hard one
/// of 524288 (and containers with whatever their runtime sets); 1024 is too few for a thousand
/// open polls, so the daemon raises its soft limit to the hard one at start. The hard limit is
/// the operator's (`LimitNOFILE=`, `--ulimit nofile=`); the daemon never needs privileges for
/// this. Handlers get the soft limit the daemon started with (`cspawn_set_handler_nofile_limit`).
public enum DescriptorLimit {
    public struct Limits: Sendable, Equatable {
        public var soft: UInt64
        public var hard: UInt64
    }

    /// The lowest descriptor number a handler start may use (`keepReserve`); `Int32.max`: no
    /// reserve kept (tests in one process, `stepworker invoke`).
    static let launchCeiling = Atomic<Int32>(.max)

    /// Keeps `reserve(below:)` descriptors below `soft` out of handler starts: the kernel hands
    /// out the lowest free number, so a pipe end numbered at or above `soft - reserve` means
    /// fewer than `reserve` are left, and the start is refused as a shortage (`LaunchPause`)
    /// rather than taking what results, the ledger, the log and the runtime's own threads need.
    /// Connections are bounded by their own caps.
    public static func keepReserve(below soft: UInt64) {
        launchCeiling.store(Int32(clamping: soft - reserve(below: soft)), ordering: .relaxed)
    }

    /// `DescriptorBudget.reserve` (64), or a quarter of a limit too small for that, so a daemon
    /// under a tiny limit can still start a handler when it has room for one.
    static func reserve(below soft: UInt64) -> UInt64 {
        min(UInt64(DescriptorBudget.reserve), soft / 4)
    }

    /// Whether a handler may keep descriptors up to `highest`.
    static func withinReserve(_ highest: Int32) -> Bool {
        highest < launchCeiling.load(ordering: .relaxed)
    }

    public static func current() -> Limits {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Limits(soft: 1024, hard: 1024) }
        return Limits(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one; returns the limits before and after. Handlers
    /// started afterwards keep the soft limit from before.
    @discardableResult
    public static func raise() -> (before: Limits, after: Limits) {
        let before = current()
        guard before.soft < before.hard else { return (before, before) }
        cspawn_set_handler_nofile_limit(before.soft)
        var limit = rlimit(rlim_cur: rlim_t(before.hard), rlim_max: rlim_t(before.hard))
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            cspawn_set_handler_nofile_limit(0)
            return (before, before)
        }
        return (before, current())
    }
}
