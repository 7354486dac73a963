#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the daemon's logs go: journald's native protocol when stderr is the journal stream
/// systemd connected (`JOURNAL_STREAM` names stderr's device and inode), text lines otherwise.
///
/// Checking the inode, not just the variable, matters: `JOURNAL_STREAM` is inherited by children
/// whose stderr was redirected (`stepworker check 2>file` from a unit's shell), and those must
/// write text where their stderr points.
public enum LogDestination: Sendable, Hashable {
    case journal
    case text

    /// The destination for this process now: `JOURNAL_STREAM` against fstat(2) of stderr.
    public static func current() -> LogDestination {
        let stream = getenv("JOURNAL_STREAM").map { String(cString: $0) }
        return select(journalStream: stream, stderr: FileIdentity(fileDescriptor: STDERR_FILENO))
    }

    /// `.journal` when `journalStream` (`<dev>:<inode>`, decimal) names `stderr`.
    public static func select(journalStream: String?, stderr: FileIdentity?) -> LogDestination {
        guard let journalStream, let stderr, let named = FileIdentity(journalStream: journalStream) else {
            return .text
        }
        return named == stderr ? .journal : .text
    }
}

/// A file's device and inode numbers: what `JOURNAL_STREAM` holds.
public struct FileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The identity of an open descriptor; nil when fstat fails (e.g. it is closed).
    public init?(fileDescriptor: Int32) {
        var status = stat()
        guard fstat(fileDescriptor, &status) == 0 else { return nil }
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// Parses `JOURNAL_STREAM`'s `<dev>:<inode>`; nil when malformed.
    public init?(journalStream: String) {
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        self.init(device: device, inode: inode)
    }

    /// The `JOURNAL_STREAM` value naming this file.
    public var journalStream: String { "\(device):\(inode)" }
}
