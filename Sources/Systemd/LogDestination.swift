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
