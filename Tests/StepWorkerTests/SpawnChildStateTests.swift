import Foundation
import StepWorker
import StepWorkerTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a handler finds when it starts, as `/proc/self/status` shows it: the configured identity
/// and nothing more, no signal ignored or blocked; and why it did not start, as errno text.
@Suite("Spawn: the handler's starting state", .timeLimit(.minutes(1)))
struct SpawnChildStateTests {
    let directory = TemporaryDirectory()
    let log = RecordingLogHandlerStore()
    let runner = SubprocessRunner()

    func invocation(_ path: String, identity: HandlerIdentity? = nil, workingDirectory: String? = nil) -> HandlerInvocation {
        HandlerInvocation(
            executablePath: path, arguments: [path], environment: ["PATH": "/usr/bin:/bin"],
            workingDirectory: workingDirectory ?? directory.path, identity: identity, input: [],
            timeout: .seconds(30), killGrace: .seconds(1), maxOutput: 65_536, logger: log.logger())
    }

    /// The fields of a handler's `/proc/self/status`, tabs as spaces. The handler is `cat` itself:
    /// a shell in between would not do (dash blocks every signal around its own vfork, so a
    /// `cat` it starts can find it in that state).
    func status(_ fields: [String], identity: HandlerIdentity? = nil) async -> [String: String] {
        var invocation = invocation("/bin/cat", identity: identity, workingDirectory: "/")
        invocation.arguments = ["cat", "/proc/self/status"]
        let result = await runner.run(invocation)
        #expect(result.termination == .exited(0), "\(result.stderrTail)")
        var found: [String: String] = [:]
        for line in String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, fields.contains(String(parts[0])) else { continue }
            found[String(parts[0])] = parts[1].split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
        }
        return found
    }

    @Test func noSignalIgnoredNorBlocked() async {
        // The daemon (this process too, through the runner) ignores SIGPIPE, and the spawn
        // blocks every signal around the clone: the handler must see neither.
        let found = await status(["SigIgn", "SigBlk"])
        #expect(found == ["SigIgn": "0000000000000000", "SigBlk": "0000000000000000"])
    }

    @Test func onlyTheThreeStandardDescriptorsAreOpen() async {
        // This process has many more open, and one here without close-on-exec that only the
        // spawn's close_range keeps from the handler.
        let inheritable = open("/dev/null", O_RDONLY)
        defer { close(inheritable) }
        var invocation = invocation("/bin/ls")
        invocation.arguments = ["ls", "/proc/self/fd"]
        let result = await runner.run(invocation)
        #expect(result.termination == .exited(0), "\(result.stderrTail)")
        // 3 is the directory ls itself opened to list them.
        #expect(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") == ["0", "1", "2", "3"])
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func theConfiguredUserAndOnlyTheConfiguredGroups() async {
        let identity = HandlerIdentity(user: "nobody", group: "adm", userID: 65534, groupID: 4, supplementaryGroups: [100, 4])
        let found = await status(["Uid", "Gid", "Groups"], identity: identity)
        // real, effective, saved and filesystem ids alike; root's group 0 is gone
        #expect(found == ["Uid": "65534 65534 65534 65534", "Gid": "4 4 4 4", "Groups": "4 100"])
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func aGroupWithoutAUserKeepsTheUser() async {
        let identity = HandlerIdentity(user: nil, group: "users", userID: nil, groupID: 100, supplementaryGroups: [])
        let found = await status(["Uid", "Gid", "Groups"], identity: identity)
        #expect(found == ["Uid": "0 0 0 0", "Gid": "100 100 100 100", "Groups": ""])
    }

    @Test func aDirectoryIsNotExecutable() async {
        let result = await runner.run(invocation(directory.path))
        #expect(result.termination == .launchFailed("Permission denied"))
    }

    @Test func aMissingWorkingDirectorySaysChdir() async {
        let result = await runner.run(invocation(directory.script("true"), workingDirectory: directory.path + "/nowhere"))
        #expect(result.termination == .launchFailed("chdir: No such file or directory"))
    }

    /// The exec is checked as the handler's user: a handler only root may execute fails to launch
    /// (it used to pass a check made as root and fail inside setpriv).
    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func anExecutableTheUserMayNotRunIsPermissionDenied() async {
        chmod(directory.path, 0o755)
        let script = directory.script("echo ran")
        chmod(script, 0o700)
        let identity = HandlerIdentity(user: "nobody", group: nil, userID: 65534, groupID: 65534, supplementaryGroups: [65534])
        let result = await runner.run(invocation(script, identity: identity, workingDirectory: "/"))
        #expect(result.termination == .launchFailed("Permission denied"))
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func aWorkingDirectoryTheUserMayNotEnterIsALaunchFailure() async {
        chmod(directory.path, 0o755)
        let closed = directory.path + "/closed"
        mkdir(closed, 0o700)
        let identity = HandlerIdentity(user: "nobody", group: nil, userID: 65534, groupID: 65534, supplementaryGroups: [65534])
        let result = await runner.run(invocation(directory.script("true"), identity: identity, workingDirectory: closed))
        #expect(result.termination == .launchFailed("chdir: Permission denied"))
    }
}
