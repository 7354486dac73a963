import CSystemd

/// Tells the service manager about the daemon's state (`READY=1`, `STATUS=…`, `WATCHDOG=1`, …).
public protocol ServiceNotifier: Sendable {
    /// Sends one notification made of `KEY=VALUE` lines. Never throws: without a service manager
    /// listening, notifications are dropped.
    func notify(_ assignments: [String])
}

/// Notifies systemd through `sd_notify(3)`; does nothing when `NOTIFY_SOCKET` is unset.
public struct SystemdNotifier: ServiceNotifier {
    public init() {}

    public func notify(_ assignments: [String]) {
        guard !assignments.isEmpty else { return }
        _ = assignments.joined(separator: "\n").withCString { sd_notify(0, $0) }
    }
}
