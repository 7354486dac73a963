import Logging
import Systemd
import Testing

@Suite(.timeLimit(.minutes(1))) struct JournalFieldsTests {
    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: Int) {
        #expect(JournalFields.priority(level) == priority)
    }

    @Test(arguments: [
        ("STEPWORKER_ACTIVITY", "STEPWORKER_ACTIVITY"),
        ("stepworker_task_id", "STEPWORKER_TASK_ID"),
        ("task.id", "TASK_ID"),
        ("http-status code", "HTTP_STATUS_CODE"),
        ("_PID", "PID"),
        ("__cursor", "CURSOR"),
        ("9lives", "META_9LIVES"),
        ("_1", "META_1"),
        ("", "META_"),
        ("___", "META_"),
        ("message", "META_MESSAGE"),
        ("PRIORITY", "META_PRIORITY"),
        ("code_line", "META_CODE_LINE"),
        ("MESSAGE_ID", "MESSAGE_ID"),
        ("größe", "GR_SSE"),
    ])
    func metadataKeysBecomeValidFieldNames(key: String, field: String) {
        #expect(JournalFields.fieldName(forMetadataKey: key) == field)
    }

    @Test func fieldNamesAreAtMost64Characters() {
        let name = JournalFields.fieldName(forMetadataKey: String(repeating: "a", count: 100))
        #expect(name == String(repeating: "A", count: 64))
    }

    @Test func anEntryHasTheFixedFieldsThenSortedMetadata() {
        let fields = JournalFields.entry(
            level: .warning,
            message: "handler failed\nsecond line",
            metadata: [
                "STEPWORKER_TASK_ID": "3f9a1c2b",
                "STEPWORKER_ACTIVITY": "resize-image",
                JournalMessageID.metadataKey: .string(JournalMessageID.taskOutcome),
                "attempts": .stringConvertible(3),
            ],
            identifier: "stepworker",
            file: "StepWorker/TaskRun.swift",
            function: "finish(_:)",
            line: 42
        )
        #expect(fields == [
            "MESSAGE=handler failed\nsecond line",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=stepworker",
            "CODE_FILE=StepWorker/TaskRun.swift",
            "CODE_LINE=42",
            "CODE_FUNC=finish(_:)",
            "ATTEMPTS=3",
            "MESSAGE_ID=\(JournalMessageID.taskOutcome)",
            "STEPWORKER_ACTIVITY=resize-image",
            "STEPWORKER_TASK_ID=3f9a1c2b",
        ])
    }

    @Test func taskOutcomeMessageIDIs128BitsOfHex() {
        let id = JournalMessageID.taskOutcome
        #expect(id.count == 32)
        #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }
}
