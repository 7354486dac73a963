import Foundation
import Glibc
import Logging
import Systemd
import Testing

@Suite(.timeLimit(.minutes(1))) struct TextLogHandlerTests {
    @Test func aLineIsLevelMessageThenSortedKeyValues() {
        let line = TextLineFormat.line(
            level: .info,
            message: "task finished",
            metadata: ["STEPWORKER_TASK_ID": "3f9a1c2b", "STEPWORKER_ACTIVITY": "resize-image", "ms": .stringConvertible(12)]
        )
        #expect(line == "INFO task finished STEPWORKER_ACTIVITY=resize-image STEPWORKER_TASK_ID=3f9a1c2b ms=12\n")
    }

    @Test func newlinesAndControlCharactersAreEscapedSoOneEventIsOneLine() {
        let line = TextLineFormat.line(
            level: .error,
            message: "line one\nline two\ttab \\ backslash\u{1B}[31m",
            metadata: ["cause": "exit 2\nstack", "empty": "", "quoted": "say \"hi\"", "pair": "a=b"]
        )
        #expect(line == #"ERROR line one\nline two\ttab \\ backslash\u{1b}[31m cause="exit 2\nstack" empty="" pair="a=b" quoted="say \"hi\"""# + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    /// Keys cannot break a line's `key=value` reading: spaces, `=` and quotes become `_`, an
    /// empty key is `_`, a backslash is escaped; plain text, non-ASCII too, is kept as it is.
    @Test func keysThatWouldBreakTheLineAreMadeSafe() {
        let line = TextLineFormat.line(
            level: .info, message: "größe ok",
            metadata: ["a b": "1", "k=v": "2", #"q""#: "3", "": "4", #"back\slash"#: "5", "plain": "héllo"]
        )
        #expect(line == #"INFO größe ok _=4 a_b=1 back\\slash=5 k_v=2 plain=héllo q_=3"# + "\n")
    }

    @Test(arguments: [
        (Logger.Level.trace, "TRACE"), (.debug, "DEBUG"), (.info, "INFO"), (.notice, "NOTICE"),
        (.warning, "WARNING"), (.error, "ERROR"), (.critical, "CRITICAL"),
    ])
    func levelNames(level: Logger.Level, name: String) {
        #expect(TextLineFormat.levelName(level) == name)
    }

    @Test func theHandlerWritesMergedMetadataToItsDescriptor() throws {
        let pipe = try TestPipe()
        var logger = Logger(label: "test") { TextLogHandler(label: $0, logLevel: .debug, fileDescriptor: pipe.writer) }
        logger[metadataKey: "STEPWORKER_ACTIVITY"] = "resize-image"
        logger.trace("not shown")
        logger.debug("polling", metadata: ["STEPWORKER_ACTIVITY": "override", "pollers": "4"])
        logger.error("send failed", error: TestError())
        pipe.closeWriter()
        #expect(pipe.readAll() == """
            DEBUG polling STEPWORKER_ACTIVITY=override pollers=4
            ERROR send failed STEPWORKER_ACTIVITY=resize-image error=TestError

            """)
    }

    @Test func concurrentLinesNeverInterleave() async throws {
        let pipe = try TestPipe()
        let writer = pipe.writer
        let reading = Task { await pipe.readAllOnAThread() }
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let logger = Logger(label: "test") { TextLogHandler(label: $0, fileDescriptor: writer) }
                    for index in 0..<200 {
                        logger.info("event", metadata: ["worker": "\(worker)", "index": "\(index)", "pad": "\(String(repeating: "x", count: 300))"])
                    }
                }
            }
        }
        pipe.closeWriter()
        let lines = await reading.value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let padding = String(repeating: "x", count: 300)
        var expected: Set<String> = [""]  // after the last newline
        for worker in 0..<8 {
            for index in 0..<200 { expected.insert("INFO event index=\(index) pad=\(padding) worker=\(worker)") }
        }
        #expect(lines.count == 1_601)
        let unexpected = Set(lines).subtracting(expected)
        #expect(unexpected.isEmpty, "\(unexpected.count) torn lines, e.g. \(unexpected.first?.prefix(120) ?? "")")
        #expect(Set(lines) == expected)
    }
}

private struct TestError: Error, CustomStringConvertible {
    var description: String { "TestError" }
}

/// A pipe whose read end is drained into a String.
final class TestPipe: Sendable {
    let reader: Int32
    let writer: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw DatagramSocket.Failure(description: "pipe: errno \(errno)") }
        // Close-on-exec, or a process spawned by a test running in parallel holds the writer
        // open and the reader waits for that process to exit.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        reader = fds[0]
        writer = fds[1]
    }

    deinit { close(reader) }

    func closeWriter() { close(writer) }

    /// `readAll()` on a thread of its own, so a blocked read holds no cooperative thread.
    func readAllOnAThread() async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.readAll()) }.start()
        }
    }

    /// Everything written until the write end is closed.
    func readAll() -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            data += buffer[..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }
}
