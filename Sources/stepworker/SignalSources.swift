import Dispatch
import Foundation
import Logging
import Synchronization

/// The daemon's signal handling: SIGTERM and SIGINT stop the supervisor (a repeat is only
/// logged by it: results that are ready are still delivered); SIGHUP is ignored with a log line
/// until reload exists, so it does not kill the daemon.
final class SignalSources {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, stop: @escaping @Sendable () -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)  // handled by the source below, not by the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGHUP {
                    logger.warning("SIGHUP received; reload is not supported yet, ignoring it")
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

/// Where a stop signal goes: the supervisor once it exists. Signals are handled from the very
/// start, so a SIGTERM during start-up (credentials, region) is remembered, not lost or fatal,
/// and the supervisor drains as soon as it runs.
final class StopTarget: Sendable {
    private struct State {
        var requested = false
        var stop: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func stop() {
        let target = state.withLock { state in
            state.requested = true
            return state.stop
        }
        target?()
    }

    /// From now on, stop requests call `stop`; one that came earlier calls it at once.
    func attach(_ stop: @escaping @Sendable () -> Void) {
        let requested = state.withLock { state in
            state.stop = stop
            return state.requested
        }
        if requested { stop() }
    }
}
