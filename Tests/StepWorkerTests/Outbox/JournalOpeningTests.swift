import Dispatch
import Foundation
import Glibc
import StepFunctions
import StepWorkerTestKit
@testable import StepWorker
import Synchronization
import Testing

/// Whatever an attacker who can write the state directory puts at the journal's path, the
/// start neither blocks nor reads without bound (issue 32): anything but a regular file, or a
/// file larger than the daemon can have written, is moved aside unread and named; holes are
/// not read; and the journal is read once.
@Suite(.timeLimit(.minutes(1))) struct JournalOpeningTests {
    let directory = TemporaryDirectory()
    let arn = "arn:aws:states:us-east-1:123456789012:activity:a"
    var state: String { directory.path + "/state" }
    var journal: String { state + "/ledger.journal" }

    init() {
        mkdir(directory.path + "/state", 0o700)
    }

    enum Outcome: Sendable {
        case opened(LedgerJournal)
        case failed(String)
    }

    /// Makes the ledger on a thread of its own, so a start that blocks fails the test instead
    /// of hanging it: nil if it has not returned within 5 s.
    func open(maxSize: Int = LedgerJournal.maxSize(concurrency: 1)) async throws -> Outcome? {
        let outcome = Mutex<Outcome?>(nil)
        let state = state
        DispatchQueue.global().async {
            let result: Outcome
            do throws(DurableFileError) {
                result = .opened(try LedgerJournal(stateDirectory: state, maxSize: maxSize))
            } catch {
                result = .failed("\(error)")
            }
            outcome.withLock { $0 = result }
        }
        _ = try await waitUntil(timeout: .seconds(5)) { outcome.withLock { $0 != nil } }
        return outcome.withLock { $0 }
    }

    func opened(maxSize: Int = LedgerJournal.maxSize(concurrency: 1)) async throws -> LedgerJournal {
        switch try await open(maxSize: maxSize) {
        case .opened(let ledger): return ledger
        case .failed(let error): throw Failure(description: "the ledger did not open: \(error)")
        case nil: throw Failure(description: "opening the ledger blocked for 5 s")
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The file type bits of what is at `path` (not followed); nil when nothing is.
    static func type(of path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : nil
    }

    /// A FIFO blocked `open` for ever (SIGTERM unanswered); a directory or a socket failed the
    /// start; a symbolic link is followed by nothing the daemon does.
    @Test(arguments: ["a FIFO", "a directory", "a socket", "a symbolic link"])
    func aJournalThatIsNotARegularFileIsMovedAsideUnreadWithoutBlocking(kind: String) async throws {
        switch kind {
        case "a FIFO": #expect(mkfifo(journal, 0o600) == 0)
        case "a directory": #expect(mkdir(journal, 0o700) == 0)
        case "a socket": try Self.bindSocket(at: journal)
        default:
            #expect(mkfifo(directory.path + "/elsewhere", 0o600) == 0)
            #expect(symlink(directory.path + "/elsewhere", journal) == 0)
        }
        let expectedType = Self.type(of: journal)
        let ledger = try await opened()
        let recovered = try ledger.recover()
        let moved = try #require(recovered.journalMovedAside)
        #expect(moved.contains(journal) && moved.contains("is \(kind), not a regular file"), "\(moved)")
        #expect(moved.contains(journal + ".1.corrupt"), "\(moved)")
        #expect(Self.type(of: journal + ".1.corrupt") == expectedType, "moved, not changed")
        #expect(Self.type(of: journal) == S_IFREG, "a new journal")

        try await ledger.store(.success(output: "1"), token: TaskToken("t1"), activityArn: arn)
        let restarted = try await opened().recover()
        #expect(restarted.pending.map(\.token) == [TaskToken("t1")])
        #expect(restarted.journalMovedAside == nil)
    }

    /// The largest journal the daemon can write for one task at a time, plus one byte: moved
    /// aside unread (a 2 GiB sparse tail was read whole, 4.1 GB resident). Sparse here too.
    @Test func aJournalLargerThanTheDaemonCanHaveWrittenIsMovedAsideUnread() async throws {
        let size = LedgerJournal.maxSize(concurrency: 1) + 1
        let record = JournalFormat.encode(.result(token: TaskToken("t1"), activityArn: arn, .success(output: "1")))
        try Data(record).write(to: URL(fileURLWithPath: journal))
        #expect(truncate(journal, off_t(size)) == 0)

        let recovered = try await opened().recover()
        #expect(recovered.pending.isEmpty, "not read")
        let moved = try #require(recovered.journalMovedAside)
        #expect(moved.contains(journal) && moved.contains("is \(size) bytes"), "\(moved)")
        #expect(moved.contains(journal + ".1.corrupt"))
        let aside = try FileManager.default.attributesOfItem(atPath: journal + ".1.corrupt")
        #expect(aside[.size] as? Int == size)
    }

    /// A journal with holes (a sparse tail a crash or a writer left) within the bound: its data
    /// is read, its holes are not, and its records are all there.
    @Test func holesAreNotRead() async throws {
        let first = JournalFormat.encode(.result(token: TaskToken("t1"), activityArn: arn, .success(output: "1")))
        let second = JournalFormat.encode(.result(token: TaskToken("t2"), activityArn: arn, .success(output: "2")))
        let fd = Glibc.open(journal, O_RDWR | O_CREAT, 0o600)
        defer { close(fd) }
        _ = first.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = second.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 16 << 20) }
        #expect(ftruncate(fd, 48 << 20) == 0)

        let contents = try JournalOpening.read(fd, size: 48 << 20)
        #expect(contents.bytesRead <= 64 << 10, "\(contents.bytesRead) bytes read")
        // The data ends with the file system's block that holds the second record.
        #expect(contents.bytes.count <= (16 << 20) + (64 << 10) + JournalFormat.headerSize + JournalFormat.maxPayload)
        #expect(JournalFormat.parse(contents.bytes).records.count == 2)
        let pending = try await opened().recover().pending
        #expect(Set(pending.map(\.token)) == [TaskToken("t1"), TaskToken("t2")])
    }

    /// The journal is read when the ledger is made, and recovery works from that: it was read a
    /// second time (and parsed again) by `recover()`. Overwriting the file in between shows it.
    @Test func theJournalIsReadOnceAtStart() async throws {
        let first = try await opened()
        try await first.store(.success(output: "1"), token: TaskToken("t1"), activityArn: arn)
        await first.flush()

        let restarted = try await opened()
        let length = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int ?? 0
        let fd = Glibc.open(journal, O_WRONLY)
        let junk = [UInt8](repeating: 0x5A, count: length)
        _ = junk.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
        let recovered = try restarted.recover()
        #expect(recovered.pending.map(\.token) == [TaskToken("t1")], "recovered from what was read at open")
        #expect(recovered.unreadable.isEmpty)
    }

    static func bindSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "bind \(path): errno \(errno)") }
    }
}
