#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The machine this process runs on.
public struct SystemHostFacts: HostFacts {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessEnvironment.current()) {
        self.environment = environment
    }

    public var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isRoot: Bool { geteuid() == 0 }

    /// No user or group name is longer (LOGIN_NAME_MAX), and a longer one is not looked up:
    /// systemd's NSS module asserts on a name past its alloca limit and aborts the process, so a
    /// 10 MB `user` in the configuration brought down `stepworker check` and the daemon's reload.
    static let maxNameBytes = 256

    /// Whether `name` can be a user or group name worth asking NSS about.
    static func isLookupName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxNameBytes && !name.utf8.contains(0)
    }

    /// `getpwnam` keeps its answer in a static buffer: called while a configuration is loaded,
    /// never from the tasks (each took the home directory from it per spawn, racing the others).
    public func user(named name: String) -> (userID: UInt32, groupID: UInt32, home: String?)? {
        guard Self.isLookupName(name), let entry = getpwnam(name) else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid, entry.pointee.pw_dir.map { String(cString: $0) })
    }

    public func group(named name: String) -> UInt32? {
        guard Self.isLookupName(name), let entry = getgrnam(name) else { return nil }
        return entry.pointee.gr_gid
    }

    public func groups(ofUser name: String, primaryGroup: UInt32) -> [UInt32] {
        guard Self.isLookupName(name) else { return [primaryGroup] }
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            let previous = count
            if getgrouplist(name, primaryGroup, &groups, &count) >= 0 {
                return Array(groups.prefix(Int(count)))
            }
            if count <= previous { count = previous * 2 }
        }
    }

    public func fileStatus(_ path: String) -> FileStatus {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        if (info.st_mode & S_IFMT) == S_IFDIR { return .directory }
        return access(path, X_OK) == 0 ? .executable : .notExecutable
    }
}
