import Foundation
import Glibc
import Logging
import Systemd
import Testing

/// The journal handler against a journald stand-in: inside `unshare --mount`, a tmpfs hides the
/// host's /run/systemd and a Python receiver binds /run/systemd/journal/socket; this test
/// bundle, run again in there with `STEPWORKER_JOURNAL_CHILD` set, logs through the handler.
@Suite(.timeLimit(.minutes(1))) struct JournalSocketTests {
    static let childFlag = "STEPWORKER_JOURNAL_CHILD"
    static let entryCount = 3

    @Test func journaldReceivesNativeEntries() async throws {
        if ProcessInfo.processInfo.environment[Self.childFlag] != nil {
            Self.logEntries()
            return
        }
        guard getuid() == 0 else { try Test.cancel("needs root for unshare --mount") }
        guard let unshare = executableOnPath("unshare") else { try Test.cancel("unshare is not installed") }
        guard let python = executableOnPath("python3") else { try Test.cancel("python3 is not installed") }
        let probe = try await runProcess(unshare, ["--mount", "/bin/true"])
        guard probe.status == 0 else { try Test.cancel("unshare --mount fails here: \(probe.stderr)") }

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.receiver.write(toFile: directory.file("receiver.py"), atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHON"] = python
        environment["RECEIVER"] = directory.file("receiver.py")
        environment["OUT"] = directory.path
        environment["XCTEST"] = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        environment["COUNT"] = "\(Self.entryCount)"
        environment["CHILD_FLAG"] = Self.childFlag
        let run = try await runProcess(unshare, ["--mount", "/bin/sh", "-c", Self.script], environment: environment)
        try #require(run.status == 0, "helper failed (\(run.status)): \(run.stderr)")

        let entries = try (0..<Self.entryCount).map { index in
            try JournalEntry(datagram: [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.file("entry-\(index)")))))
        }
        let outcome = entries[0]
        #expect(outcome.values("MESSAGE") == ["task finished"])
        #expect(outcome.values("PRIORITY") == ["6"])
        #expect(outcome.values("SYSLOG_IDENTIFIER") == ["stepworker"])
        #expect(outcome.values("CODE_FILE") == ["StepWorker/TaskRun.swift"])
        #expect(outcome.values("CODE_LINE") == ["42"])
        #expect(outcome.values("CODE_FUNC") == ["finish(_:)"])
        #expect(outcome.values("MESSAGE_ID") == [JournalMessageID.taskOutcome])
        #expect(outcome.values("STEPWORKER_ACTIVITY") == ["resize-image"])
        #expect(outcome.values("STEPWORKER_TASK_ID") == ["3f9a1c2b"])
        #expect(outcome.values("STEPWORKER_OUTCOME") == ["succeeded"])
        #expect(outcome.values("STEPWORKER_DURATION_MS") == ["1234"])
        #expect(outcome.values("WORKER") == ["build-host-1"])
        #expect(outcome.values("META_9LIVES") == ["yes"])

        let failure = entries[1]
        #expect(failure.values("MESSAGE") == ["handler failed\nexit status 2"])
        #expect(failure.values("PRIORITY") == ["3"])
        #expect(failure.values("STEPWORKER_CAUSE") == ["Traceback:\n  line 1\u{0}binary"])
        #expect(failure.values("MESSAGE_ID").isEmpty)
        #expect(failure.binaryFields == ["MESSAGE", "STEPWORKER_CAUSE"])
        #expect(outcome.binaryFields.isEmpty)

        let critical = entries[2]
        #expect(critical.values("MESSAGE") == ["watchdog stalled"])
        #expect(critical.values("PRIORITY") == ["2"])
        #expect(critical.values("ERROR") == ["boom"])
    }

    /// The child's side: three entries, in order.
    private static func logEntries() {
        var logger = Logger(label: "journal-test") { JournalLogHandler(label: $0, logLevel: .debug) }
        logger[metadataKey: "worker"] = "build-host-1"
        logger.log(
            level: .info,
            "task finished",
            metadata: [
                JournalMessageID.metadataKey: .string(JournalMessageID.taskOutcome),
                "STEPWORKER_ACTIVITY": "resize-image",
                "STEPWORKER_TASK_ID": "3f9a1c2b",
                "STEPWORKER_OUTCOME": "succeeded",
                "STEPWORKER_DURATION_MS": .stringConvertible(1234),
                "9lives": "yes",
            ],
            source: nil,
            file: "StepWorker/TaskRun.swift",
            function: "finish(_:)",
            line: 42
        )
        logger.error("handler failed\nexit status 2", metadata: ["STEPWORKER_CAUSE": "Traceback:\n  line 1\u{0}binary"])
        logger.critical("watchdog stalled", metadata: ["error": "boom"])
    }

    static let script = #"""
        set -eu
        mkdir -p /run/systemd
        mount -t tmpfs -o mode=0755 tmpfs /run/systemd
        mkdir -p /run/systemd/journal
        "$PYTHON" "$RECEIVER" /run/systemd/journal/socket "$OUT" "$COUNT" &
        receiver=$!
        tries=0
        while [ ! -S /run/systemd/journal/socket ]; do
            tries=$((tries + 1))
            [ "$tries" -le 200 ] || { echo "the receiver did not bind the socket" >&2; exit 3; }
            sleep 0.05
        done
        env "$CHILD_FLAG=1" "$XCTEST" --testing-library swift-testing --filter journaldReceivesNativeEntries \
            > "$OUT/child.log" 2>&1 || { cat "$OUT/child.log" >&2; exit 4; }
        wait "$receiver"
        """#

    static let receiver = """
        import os, socket, sys
        path, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.bind(path)
        receiver.settimeout(30)
        for index in range(count):
            data = receiver.recv(1 << 20)
            with open(os.path.join(out, "entry-%d" % index), "wb") as entry:
                entry.write(data)
        """
}

/// One datagram of journald's native protocol: `KEY=value\n`, or for values with newlines or
/// other binary data `KEY\n`, a 64-bit little-endian length, the value, `\n`.
struct JournalEntry {
    var fields: [(name: String, value: String)] = []
    /// Fields that came in the binary (length-prefixed) form.
    var binaryFields: Set<String> = []

    struct Malformed: Error {}

    init(datagram bytes: [UInt8]) throws {
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\n") }) else {
                throw Malformed()
            }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            if bytes[end] == UInt8(ascii: "=") {
                guard let newline = bytes[end...].firstIndex(of: UInt8(ascii: "\n")) else { throw Malformed() }
                fields.append((name, String(decoding: bytes[(end + 1)..<newline], as: UTF8.self)))
                index = newline + 1
            } else {
                let lengthStart = end + 1
                guard lengthStart + 8 <= bytes.count else { throw Malformed() }
                let length = bytes[lengthStart..<(lengthStart + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let valueStart = lengthStart + 8
                guard valueStart + length < bytes.count, bytes[valueStart + length] == UInt8(ascii: "\n") else { throw Malformed() }
                fields.append((name, String(decoding: bytes[valueStart..<(valueStart + length)], as: UTF8.self)))
                binaryFields.insert(name)
                index = valueStart + length + 1
            }
        }
    }

    func values(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }
}
