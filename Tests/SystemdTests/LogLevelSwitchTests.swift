import Logging
@testable import Systemd
import Synchronization
import Testing

/// The level a reload sets reaches loggers made before it, unless one set its own.
@Suite(.timeLimit(.minutes(1)))
struct LogLevelSwitchTests {
    final class Recorder: Sendable {
        let messages = Mutex<[String]>([])
    }

    struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.withLock { $0.append(event.message.description) }
        }
    }

    @Test func loggersFollowTheSwitch() {
        let recorder = Recorder()
        let levelSwitch = LogLevelSwitch(.info)
        var logger = Logger(label: "test") { _ in
            SwitchedLevelLogHandler(base: RecordingHandler(recorder: recorder), levelSwitch: levelSwitch)
        }
        logger[metadataKey: "kept"] = "yes"
        logger.debug("hidden")
        levelSwitch.level = .debug
        logger.debug("shown after the reload")
        levelSwitch.level = .warning
        logger.info("hidden again")
        #expect(recorder.messages.withLock { $0 } == ["shown after the reload"])
        #expect(logger[metadataKey: "kept"] == "yes")

        var own = logger
        own.logLevel = .trace  // a logger with a level of its own keeps it
        own.trace("own level")
        #expect(recorder.messages.withLock { $0 }.last == "own level")
        #expect(logger.logLevel == .warning)
    }
}
