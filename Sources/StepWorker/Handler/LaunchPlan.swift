import Subprocess

/// What swift-subprocess is asked to start for an invocation.
///
/// The handler always gets its own session. A configured user/group is applied by
/// `setpriv(1)` rather than by swift-subprocess's `userID`/`groupID`: those call glibc's
/// setgroups/setgid/setuid in a child made by a raw clone3, where glibc's cross-thread setxid
/// machinery can wait forever on a lock another thread of the daemon held at that moment (seen
/// as a handler stuck before exec). setpriv runs single-threaded, drops the identity, then execs
/// the handler with the same argv and environment.
struct LaunchPlan {
    static let setpriv = "/usr/bin/setpriv"

    var executable: String
    /// argv, `argv[0]` included.
    var arguments: [String]
    var platformOptions: PlatformOptions

    init(_ invocation: HandlerInvocation) {
        var options = PlatformOptions()
        options.createSession = true
        platformOptions = options
        guard let identity = invocation.identity else {
            executable = invocation.executablePath
            arguments = invocation.arguments
            return
        }
        var wrapper = ["setpriv"]
        if let userID = identity.userID { wrapper.append("--reuid=\(userID)") }
        wrapper.append("--regid=\(identity.groupID)")
        if identity.supplementaryGroups.isEmpty {
            wrapper.append("--clear-groups")
        } else {
            wrapper.append("--groups=" + identity.supplementaryGroups.map(String.init).joined(separator: ","))
        }
        wrapper += ["--", invocation.executablePath]
        executable = Self.setpriv
        arguments = wrapper + invocation.arguments.dropFirst()
    }
}
