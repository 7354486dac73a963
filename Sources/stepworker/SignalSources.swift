#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import FoundationEssentials
import Logging
import Synchronization

/// The daemon's signal handling: SIGTERM and SIGINT stop the supervisor (a repeat is only
/// logged by it: results that are ready are still delivered); SIGHUP reloads the configuration.
final class SignalSources {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, stop: @escaping @Sendable () -> Void, reload: @escaping @Sendable () -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)  // handled by the source below, not by the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGHUP {
                    logger.notice("Reload signal received", metadata: ["signal": "SIGHUP"])
                    reload()
                } else {
                    logger.notice("Stop signal received", metadata: ["signal": "\(number == SIGTERM ? "SIGTERM" : "SIGINT")"])
                    stop()
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

/// Where a signal's request goes: the supervisor once it exists. Signals are handled from the
/// very start, so a SIGTERM or SIGHUP during start-up (credentials, region) is remembered, not
/// lost or fatal, and the supervisor acts on it as soon as it exists.
final class SignalTarget: Sendable {
    private struct State {
        var requested = false
        var action: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func request() {
        let action = state.withLock { state in
            state.requested = true
            return state.action
        }
        action?()
    }

    /// Whether a request came (from any thread; the start asks it while it reads the ledger).
    var isRequested: Bool {
        state.withLock { $0.requested }
    }

    /// From now on, requests call `action`; one that came earlier calls it at once.
    func attach(_ action: @escaping @Sendable () -> Void) {
        let requested = state.withLock { state in
            state.action = action
            return state.requested
        }
        if requested { action() }
    }
}
