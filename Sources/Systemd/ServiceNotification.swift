#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One `KEY=VALUE` assignment of the sd_notify protocol (see `sd_notify(3)`).
///
/// Several notifications sent together travel in one datagram, so systemd sees them at once
/// (`RELOADING=1` must come with `MONOTONIC_USEC=` in the same message).
public enum ServiceNotification: Sendable, Hashable {
    /// `READY=1`: start-up (or a reload) is complete.
    case ready
    /// `RELOADING=1`: configuration reload started; send `.monotonicTime` with it.
    case reloading
    /// `STOPPING=1`: shutdown started.
    case stopping
    /// `STATUS=…`: one line of free text shown by `systemctl status`. Line breaks become spaces.
    case status(String)
    /// `WATCHDOG=1`: keep-alive ping.
    case watchdog
    /// `EXTEND_TIMEOUT_USEC=…`: the current start, stop or reload may take this much longer.
    case extendTimeout(Duration)
    /// `MONOTONIC_USEC=…`: CLOCK_MONOTONIC in microseconds, when a reload started.
    case monotonicTime(microseconds: UInt64)
    /// `MAINPID=…`: the main process of the service is now this one.
    case mainPID(Int32)

    /// The line sent to the service manager.
    public var assignment: String {
        switch self {
        case .ready: "READY=1"
        case .reloading: "RELOADING=1"
        case .stopping: "STOPPING=1"
        case .status(let text): "STATUS=" + Self.singleLine(text)
        case .watchdog: "WATCHDOG=1"
        case .extendTimeout(let duration): "EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"
        case .monotonicTime(let microseconds): "MONOTONIC_USEC=\(microseconds)"
        case .mainPID(let pid): "MAINPID=\(pid)"
        }
    }

    /// The datagram for `notifications`: one assignment per line.
    public static func message(_ notifications: [ServiceNotification]) -> String {
        notifications.map(\.assignment).joined(separator: "\n")
    }

    /// Whole microseconds in `duration`, rounded down; negative durations count as zero.
    public static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return .max }
        return whole &+ UInt64(attoseconds / 1_000_000_000_000)
    }

    /// CLOCK_MONOTONIC now, in microseconds: the clock systemd compares `MONOTONIC_USEC` with.
    public static func monotonicNowMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// A newline would end the assignment and start another one (`STATUS=x\nREADY=1`), so text
    /// from elsewhere (handler output, error messages) can never inject a notification.
    private static func singleLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
