/// Tells the service manager about the daemon's state: the boundary the supervisor talks to.
///
/// `SystemdNotifier` is the real one; `RecordingNotifier` records messages for tests.
public protocol ServiceNotifier: Sendable {
    /// Sends `notifications` in one message. Never throws: without a service manager listening,
    /// notifications are dropped.
    func notify(_ notifications: [ServiceNotification])

    /// Waits, at most `timeout`, until what was notified so far has been sent: before exiting.
    func flush(timeout: Duration) async
}

extension ServiceNotifier {
    /// Notifiers that send at once have nothing to wait for.
    public func flush(timeout: Duration) async {}

    /// `READY=1`, with a status line when given: start-up or a reload is complete.
    public func ready(status: String? = nil) {
        notify([.ready] + (status.map { [.status($0)] } ?? []))
    }

    /// `STATUS=…`: what `systemctl status` shows, e.g. `3 running, 1204 succeeded; 4 activities`.
    public func status(_ text: String) {
        notify([.status(text)])
    }

    /// `STOPPING=1`, with a status line when given: shutdown (draining) started.
    public func stopping(status: String? = nil) {
        notify([.stopping] + (status.map { [.status($0)] } ?? []))
    }

    /// `RELOADING=1` and `MONOTONIC_USEC=<now>` in one message: a reload started. Send `ready()`
    /// when it is done, whether the new configuration was taken or rejected.
    public func reloading(status: String? = nil) {
        let now = ServiceNotification.monotonicNowMicroseconds()
        notify([.reloading, .monotonicTime(microseconds: now)] + (status.map { [.status($0)] } ?? []))
    }

    /// `WATCHDOG=1`. Usually sent by `Watchdog`, not by hand.
    public func watchdogPing() {
        notify([.watchdog])
    }

    /// `EXTEND_TIMEOUT_USEC=…`: the stop (drain), start or reload in progress needs `duration`
    /// more from now. Send it again before it runs out to keep extending.
    public func extendTimeout(by duration: Duration) {
        notify([.extendTimeout(duration)])
    }

    /// `MAINPID=…`: another process is now the service's main process.
    public func mainPID(_ pid: Int32) {
        notify([.mainPID(pid)])
    }
}
