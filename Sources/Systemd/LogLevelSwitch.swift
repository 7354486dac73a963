public import Logging
import Synchronization

/// The log level every handler `LoggingSetup.bootstrap` made follows, so a reload can change
/// `worker.log_level` without a restart. Loggers that set their own `logLevel` keep that one.
public final class LogLevelSwitch: Sendable {
    private let current: Mutex<Logger.Level>

    public init(_ level: Logger.Level) {
        current = Mutex(level)
    }

    public var level: Logger.Level {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// A handler whose level is the switch's, unless a logger set one of its own.
struct SwitchedLevelLogHandler: LogHandler {
    var base: any LogHandler
    let levelSwitch: LogLevelSwitch
    private var ownLevel: Logger.Level?

    init(base: any LogHandler, levelSwitch: LogLevelSwitch) {
        self.base = base
        self.levelSwitch = levelSwitch
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? levelSwitch.level }
        set { ownLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        base.log(event: event)
    }
}
