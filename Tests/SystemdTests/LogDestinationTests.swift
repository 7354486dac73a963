import Glibc
import Logging
import Systemd
import Testing

@Suite(.timeLimit(.minutes(1))) struct LogDestinationTests {
    @Test func parsesJournalStream() {
        #expect(FileIdentity(journalStream: "2049:123456") == FileIdentity(device: 2049, inode: 123_456))
        for malformed in ["", "2049", "2049:", ":1", "a:b", "1:2:3", "-1:2", " 1:2"] {
            #expect(FileIdentity(journalStream: malformed) == nil, "\(malformed)")
        }
        #expect(FileIdentity(device: 8, inode: 99).journalStream == "8:99")
    }

    @Test func journalOnlyWhenTheStreamNamesStderr() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = open(directory.file("a"), O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        let second = open(directory.file("b"), O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        defer { close(first); close(second) }
        let stderrLike = try #require(FileIdentity(fileDescriptor: first))
        let other = try #require(FileIdentity(fileDescriptor: second))
        #expect(stderrLike != other)

        #expect(LogDestination.select(journalStream: stderrLike.journalStream, stderr: stderrLike) == .journal)
        #expect(LogDestination.select(journalStream: other.journalStream, stderr: stderrLike) == .text)
        #expect(LogDestination.select(journalStream: nil, stderr: stderrLike) == .text)
        #expect(LogDestination.select(journalStream: "garbage", stderr: stderrLike) == .text)
        #expect(LogDestination.select(journalStream: stderrLike.journalStream, stderr: nil) == .text)
    }

    @Test func aClosedDescriptorHasNoIdentity() {
        #expect(FileIdentity(fileDescriptor: -1) == nil)
    }

    @Test func setupPicksTheHandlerForTheDestination() {
        #expect(LoggingSetup.makeHandler(label: "x", level: .notice, destination: .journal) is JournalLogHandler)
        #expect(LoggingSetup.makeHandler(label: "x", level: .notice, destination: .text) is TextLogHandler)
        #expect(LoggingSetup.makeHandler(label: "x", level: .notice, destination: .text).logLevel == .notice)
    }
}

extension ProcessEnvironmentTests {
    @Suite struct CurrentLogDestinationTests {
        @Test func comparesJournalStreamWithThisProcessStderr() async throws {
            let stderrIdentity = try #require(FileIdentity(fileDescriptor: STDERR_FILENO))
            await withEnvironment(["JOURNAL_STREAM": stderrIdentity.journalStream]) {
                #expect(LogDestination.current() == .journal)
            }
            let elsewhere = FileIdentity(device: stderrIdentity.device, inode: stderrIdentity.inode &+ 1)
            await withEnvironment(["JOURNAL_STREAM": elsewhere.journalStream]) {
                #expect(LogDestination.current() == .text)
            }
            await withEnvironment(["JOURNAL_STREAM": nil]) {
                #expect(LogDestination.current() == .text)
            }
        }
    }
}
