public import Logging

/// Sets swift-log up for the binary: call `LoggingSetup.bootstrap(level:)` once, first thing
/// in `main`, before any `Logger` is made.
public enum LoggingSetup {
    /// Bootstraps swift-log with `JournalLogHandler` when stderr is journald's stream, else
    /// `TextLogHandler` on stderr (see `LogDestination`). swift-log allows one bootstrap per process.
    /// Returns the switch every handler takes its level from (a reload sets it).
    @discardableResult
    public static func bootstrap(level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) -> LogLevelSwitch {
        let destination = LogDestination.current()
        let levelSwitch = LogLevelSwitch(level)
        LoggingSystem.bootstrap({ label, provider in
            SwitchedLevelLogHandler(
                base: makeHandler(label: label, level: level, destination: destination, metadataProvider: provider),
                levelSwitch: levelSwitch)
        }, metadataProvider: metadataProvider)
        return levelSwitch
    }

    /// The handler `bootstrap` installs for `destination`: for tests, and for tools that want a
    /// `Logger(label:factory:)` without touching the global bootstrap.
    public static func makeHandler(
        label: String,
        level: Logger.Level,
        destination: LogDestination,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> any LogHandler {
        switch destination {
        case .journal:
            JournalLogHandler(label: label, logLevel: level, metadataProvider: metadataProvider)
        case .text:
            TextLogHandler(label: label, logLevel: level, metadataProvider: metadataProvider)
        }
    }
}
