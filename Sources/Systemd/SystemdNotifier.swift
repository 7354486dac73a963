import CSystemd
import Logging

/// Notifies systemd through `sd_notify(3)` (never the variadic `sd_notifyf`).
///
/// Without `NOTIFY_SOCKET` in the environment (not started by systemd, or `Type=` other than
/// `notify`) every call is a cheap no-op. `sd_notify` accepts a path or an abstract socket
/// (`@name`) and, with `NotifyAccess=main`, systemd only takes messages from the main process.
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

    /// - Parameter logger: where failed sends are reported (at `warning`); nil to stay silent.
    public init(logger: Logger? = nil) {
        self.logger = logger
    }

    public func notify(_ notifications: [ServiceNotification]) {
        _ = send(notifications)
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
            "could not notify the service manager",
            metadata: ["errno": "\(-result)", "notification": "\(notifications.first?.assignment ?? "")"]
        )
        return .failed(errno: -result)
    }
}
