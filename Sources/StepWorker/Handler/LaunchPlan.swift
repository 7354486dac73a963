#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSpawn
import POSIXSupport

/// What the child execs, prepared before the spawn: the child shares the daemon's memory until it
/// execs and may not allocate, so argv, envp and the directory are C strings made here (freed
/// when the plan is dropped). `spawn` runs `cspawn_spawn` (Sources/CSpawn/spawn.c): a new
/// session; the configured groups, group and user, set in the child with raw syscalls; the
/// working directory; the pipes as 0, 1 and 2 and every other descriptor closed; every signal
/// at its default and none blocked; PR_SET_PDEATHSIG (SIGKILL); exec.
package struct LaunchPlan: ~Copyable {
    private let path: UnsafeMutablePointer<CChar>
    private let arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let environment: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let directory: UnsafeMutablePointer<CChar>?
    private let identity: HandlerIdentity?

    package init(
        executablePath: String, arguments: [String], environment: [String: String], workingDirectory: String?,
        identity: HandlerIdentity?
    ) {
        path = strdup(executablePath)
        self.arguments = Self.cStrings(arguments)
        self.environment = Self.cEnvironment(environment)
        directory = workingDirectory.map { strdup($0) }
        self.identity = identity
    }

    package init(_ invocation: HandlerInvocation) {
        self.init(
            executablePath: invocation.executablePath, arguments: invocation.arguments,
            environment: invocation.environment, workingDirectory: invocation.workingDirectory,
            identity: invocation.identity)
    }

    deinit {
        free(path)
        for strings in [arguments, environment] {
            var index = 0
            while let string = strings[index] {
                free(string)
                index += 1
            }
            strings.deallocate()
        }
        free(directory)
    }

    /// Starts the child with the three descriptors as its stdin, stdout and stderr; its pid.
    ///
    /// PR_SET_PDEATHSIG is the *calling thread's*: the child gets SIGKILL when this thread exits,
    /// not only when the daemon does. Call it from a thread that outlives the child (the runner's
    /// handler thread), never from a Swift concurrency pool thread, which the pool may retire at
    /// any time. `expectedParent` is the pid the child must still see as its parent once the
    /// signal is armed (a test passes another one to see the check refuse).
    ///
    /// An exec refused with ETXTBSY is tried again, five times over about 30 ms: a file some
    /// thread of this process had open for writing at the moment any child was cloned stays
    /// "busy" until that child has closed its copy of the descriptor, a few microseconds later.
    package func spawn(stdin: Int32, stdout: Int32, stderr: Int32, expectedParent: Int32 = getpid()) throws(LaunchError) -> Int32 {
        var failure = cspawn_failure()
        for attempt in 0...5 {
            let pid = spawnOnce(stdin: stdin, stdout: stdout, stderr: stderr, expectedParent: expectedParent, &failure)
            if pid > 0 { return pid }
            guard failure.error == ETXTBSY, attempt < 5 else { break }
            usleep(1000 << UInt32(attempt))
        }
        let step = failure.failed_step.map { String(cString: $0) } ?? "spawn"
        // A failed exec is the common case and reads as before: just the errno text
        // ("No such file or directory", "Permission denied"); other steps say which.
        if step == "exec" { throw LaunchError(message: POSIX.describe(failure.error), code: failure.error) }
        throw LaunchError(errno: failure.error, doing: step)
    }

    private func spawnOnce(
        stdin: Int32, stdout: Int32, stderr: Int32, expectedParent: Int32, _ failure: inout cspawn_failure
    ) -> Int32 {
        let groups = identity?.supplementaryGroups ?? []
        return groups.withUnsafeBufferPointer { groups in
            var request = cspawn_request(
                path: path, argv: arguments, envp: environment, directory: directory,
                stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr,
                set_identity: identity == nil ? 0 : 1, set_user: identity?.userID == nil ? 0 : 1,
                uid: identity?.userID ?? 0, gid: identity?.groupID ?? 0,
                groups: groups.baseAddress, group_count: groups.count, expected_parent: expectedParent)
            return cspawn_spawn(&request, &failure)
        }
    }

    /// `NAME=value` C strings, each written straight into its allocation. A name that is empty
    /// or holds "=" could not be read back as the name it is (the validator refuses them): left out.
    private static func cEnvironment(_ environment: [String: String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: environment.count + 1)
        var count = 0
        for (name, value) in environment where !name.isEmpty && !name.utf8.contains(UInt8(ascii: "=")) {
            var name = name, value = value
            let entry = name.withUTF8 { name in
                value.withUTF8 { value in
                    let entry = UnsafeMutableRawPointer(malloc(name.count + value.count + 2)!)
                    if let base = name.baseAddress { entry.copyMemory(from: base, byteCount: name.count) }
                    entry.storeBytes(of: UInt8(ascii: "="), toByteOffset: name.count, as: UInt8.self)
                    if let base = value.baseAddress { (entry + name.count + 1).copyMemory(from: base, byteCount: value.count) }
                    entry.storeBytes(of: 0, toByteOffset: name.count + value.count + 1, as: UInt8.self)
                    return entry
                }
            }
            array[count] = entry.assumingMemoryBound(to: CChar.self)
            count += 1
        }
        array[count] = nil
        return array
    }

    private static func cStrings(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { array[index] = strdup(string) }
        array[strings.count] = nil
        return array
    }
}
