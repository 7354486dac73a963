import Foundation
import Logging
import StepWorker
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A directory under /tmp that the test owns; removed when dropped.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        var template = Array("/tmp/stepworker-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let created else { fatalError("mkdtemp failed") }
        path = created
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a file; `executable` makes it 0755.
    @discardableResult
    func write(_ name: String, _ contents: String, executable: Bool = false) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(
            atPath: file, contents: Data(contents.utf8),
            attributes: [.posixPermissions: executable ? 0o755 : 0o644])
        return file
    }

    /// A `/bin/sh` script handler.
    func script(_ body: String, name: String = "handler.sh") -> String {
        write(name, "#!/bin/sh\n" + body + "\n", executable: true)
    }
}

/// Keeps every log message, and lets a test wait for one instead of sleeping.
final class RecordingLogHandlerStore: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }
    var messages: [String] { all.map(\.message) }

    func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    /// Waits (polling every 10 ms, at most `timeout`) until a message satisfies `predicate`.
    func waitFor(timeout: Duration = .seconds(10), _ predicate: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if messages.contains(where: predicate) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    func logger() -> Logger {
        Logger(label: "test") { _ in RecordingLogHandler(store: self) }
    }
}

struct RecordingLogHandler: LogHandler {
    let store: RecordingLogHandlerStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.append(.init(
            level: event.level, message: event.message.description,
            metadata: merged.mapValues { "\($0)" }))
    }
}

/// Host facts of this machine, with root-ness overridable.
struct TestHostFacts: HostFacts {
    var system = SystemHostFacts(environment: [:])
    var root: Bool? = nil
    var hostnameOverride: String? = nil

    var environment: [String: String] { system.environment }
    var hostname: String { hostnameOverride ?? system.hostname }
    var isRoot: Bool { root ?? system.isRoot }
    func user(named name: String) -> (userID: UInt32, groupID: UInt32)? { system.user(named: name) }
    func group(named name: String) -> UInt32? { system.group(named: name) }
    func groups(ofUser name: String, primaryGroup: UInt32) -> [UInt32] {
        system.groups(ofUser: name, primaryGroup: primaryGroup)
    }
    func fileStatus(_ path: String) -> FileStatus { system.fileStatus(path) }
}

enum RepositoryPaths {
    /// The package root, found from this file's path.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `stepworker` binary: next to the test bundle, else in .build/debug.
    static let binary: String = {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory.path, bundleDirectory.deletingLastPathComponent().path, root + "/.build/debug"] {
            let path = candidate + "/stepworker"
            if access(path, X_OK) == 0 { return path }
        }
        return root + "/.build/debug/stepworker"
    }()
}

/// Resident set size of this process in bytes, from /proc/self/status.
func residentSetSize() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kilobytes * 1024
}

/// Whether a process is gone (or a zombie nobody reaped yet, which cannot run any more).
func processIsGone(_ pid: pid_t) -> Bool {
    if kill(pid, 0) != 0 { return errno == ESRCH }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}
