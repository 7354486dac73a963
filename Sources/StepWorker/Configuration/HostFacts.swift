#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What validation needs to know about the machine, behind a protocol so tests can pretend to
/// be root, or not, without changing who they are.
public protocol HostFacts: Sendable {
    var environment: [String: String] { get }
    var hostname: String { get }
    var isRoot: Bool { get }
    /// uid, primary gid and home directory of a user name.
    func user(named name: String) -> (userID: UInt32, groupID: UInt32, home: String?)?
    func group(named name: String) -> UInt32?
    /// The groups a user belongs to, `primaryGroup` included.
    func groups(ofUser name: String, primaryGroup: UInt32) -> [UInt32]
    func fileStatus(_ path: String) -> FileStatus
}
