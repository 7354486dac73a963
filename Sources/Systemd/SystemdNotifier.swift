import CSystemd
import Dispatch
public import Logging
import Synchronization

/// Notifies systemd through `sd_notify(3)` (never the variadic `sd_notifyf`).
///
/// Without `NOTIFY_SOCKET` in the environment (not started by systemd, or `Type=` other than
/// `notify`) every call is a cheap no-op. `sd_notify` accepts a path or an abstract socket
/// (`@name`) and, with `NotifyAccess=main`, systemd only takes messages from the main process.
///
/// `sd_notify` blocks while the receiver's queue is full (a stalled reader), so `notify` sends
/// from a serial queue of its own, in order, and never holds up the daemon's async threads;
/// `flush(timeout:)` waits, boundedly, for what is queued before the process exits.
public struct SystemdNotifier: ServiceNotifier {
    /// What happened to one message.
    public enum Delivery: Sendable, Equatable {
        /// Sent to the socket named by `NOTIFY_SOCKET`.
        case sent
        /// `NOTIFY_SOCKET` is unset: nothing to send to.
        case noServiceManager
        /// The send failed with this errno (socket gone, permission denied, …).
        case failed(errno: Int32)
    }

    private let logger: Logger?
    private let queue = DispatchQueue(label: "stepworker.sd_notify")

    /// - Parameter logger: where failed sends are reported (at `warning`); nil to stay silent.
    public init(logger: Logger? = nil) {
        self.logger = logger
    }

    public func notify(_ notifications: [ServiceNotification]) {
        queue.async { _ = send(notifications) }
    }

    /// Returns once every notification queued so far was sent, or after `timeout`.
    public func flush(timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiter = Mutex<CheckedContinuation<Void, Never>?>(continuation)
            let resume: @Sendable () -> Void = { waiter.withLock { $0.take() }?.resume() }
            queue.async(execute: resume)
            let (seconds, attoseconds) = timeout.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds), execute: resume)
        }
    }

    /// Sends `notifications` in one datagram and says what happened (an empty list sends
    /// nothing and answers `.noServiceManager`).
    @discardableResult
    public func send(_ notifications: [ServiceNotification]) -> Delivery {
        guard !notifications.isEmpty else { return .noServiceManager }
        let result = ServiceNotification.message(notifications).withCString { sd_notify(0, $0) }
        if result > 0 { return .sent }
        if result == 0 { return .noServiceManager }
        logger?.warning(
            "Could not notify the service manager",
            metadata: ["errno": "\(-result)", "notification": "\(notifications.first?.assignment ?? "")"]
        )
        return .failed(errno: -result)
    }
}
