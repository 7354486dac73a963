public import Logging

/// The native journal entry for a log event, as `FIELD=value` strings (see `systemd.journal-fields(7)`).
///
/// Pure, so the mapping is tested without journald.
public enum JournalFields {
    /// Fields the handler sets itself; metadata keys that would collide get a `META_` prefix.
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
    ]

    /// syslog priority of a swift-log level (`journalctl -p`).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal field name for a metadata key: uppercased, anything but `A-Z`, `0-9` and `_`
    /// turned into `_`, leading underscores dropped (those are journald's trusted fields), a
    /// `META_` prefix when it would start with a digit, be empty or collide with a reserved
    /// field; at most 64 characters. `STEPWORKER_ACTIVITY` stays `STEPWORKER_ACTIVITY`;
    /// `task.id` becomes `TASK_ID`.
    public static func fieldName(forMetadataKey key: String) -> String {
        var name = String(key.uppercased().unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "A"..."Z", "0"..."9", "_": Character(scalar)
            default: "_"
            }
        })
        while name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty || name.first!.isNumber || reserved.contains(name) {
            name = "META_" + name
        }
        return String(name.prefix(64))
    }

    /// The entry's fields, in order: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE, CODE_LINE,
    /// CODE_FUNC, then one per metadata key, sorted by field name. Values are sent verbatim;
    /// newlines included (the journal protocol carries them).
    public static func entry(
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata,
        identifier: String,
        file: String,
        function: String,
        line: UInt
    ) -> [String] {
        var fields = [
            "MESSAGE=" + message,
            "PRIORITY=\(priority(level))",
            "SYSLOG_IDENTIFIER=" + identifier,
            "CODE_FILE=" + file,
            "CODE_LINE=\(line)",
            "CODE_FUNC=" + function,
        ]
        let named = metadata.map { (fieldName(forMetadataKey: $0.key), LogEventFields.text($0.value)) }
        for (name, value) in named.sorted(by: { $0 < $1 }) {
            fields.append(name + "=" + value)
        }
        return fields
    }
}
