public import StepWorker

/// Host facts of this machine, with root-ness overridable.
public struct TestHostFacts: HostFacts {
    public var system = SystemHostFacts(environment: [:])
    public var root: Bool? = nil
    public var hostnameOverride: String? = nil

    public init(system: SystemHostFacts = SystemHostFacts(environment: [:]), root: Bool? = nil, hostnameOverride: String? = nil) {
        self.system = system
        self.root = root
        self.hostnameOverride = hostnameOverride
    }

    public var environment: [String: String] { system.environment }
    public var hostname: String { hostnameOverride ?? system.hostname }
    public var isRoot: Bool { root ?? system.isRoot }
    public func user(named name: String) -> (userID: UInt32, groupID: UInt32, home: String?)? { system.user(named: name) }
    public func group(named name: String) -> UInt32? { system.group(named: name) }
    public func groups(ofUser name: String, primaryGroup: UInt32) -> [UInt32] {
        system.groups(ofUser: name, primaryGroup: primaryGroup)
    }
    public func fileStatus(_ path: String) -> FileStatus { system.fileStatus(path) }
}
