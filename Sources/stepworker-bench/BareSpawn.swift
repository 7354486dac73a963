import Foundation
import Glibc

/// This machine's bare spawn rate for a handler: `parallelism` threads, each in a loop of
/// pipe2 (stdin, stdout) -> posix_spawn -> write the input, close -> read stdout to EOF -> waitpid.
/// stderr goes to /dev/null. No session, no environment beyond PATH, no thread per run: the
/// least any worker must do to run the handler once.
enum BareSpawn {
    struct Result {
        var spawns: Int
        var elapsed: Duration
        var failures: Int
        var childCPUSeconds: Double
        /// This process's CPU meanwhile: the parent's side of the spawns (nothing else runs then).
        var parentCPUSeconds: Double
        var rate: Double { Double(spawns) / elapsed.seconds }
    }

    /// glibc's pipe2, which Swift's Glibc module does not export (it needs _GNU_SOURCE): pipe
    /// then fcntl would let a concurrently spawned child inherit the ends for a moment.
    private static let pipe2: @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32 = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "pipe2") else { fatalError("no pipe2 in libc") }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32).self)
    }()

    static func measure(executable: String, input: String, parallelism: Int, duration: Duration) async -> Result {
        let childCPUBefore = childrenCPUSeconds()
        let parentCPUBefore = ownCPUSeconds()
        let counts = Locked((spawns: 0, failures: 0))
        let started = ContinuousClock.now
        let end = started.advanced(by: duration)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let remaining = Locked(parallelism)
            for _ in 0..<parallelism {
                let thread = Thread {
                    let (spawns, failures) = loop(executable: executable, input: Array(input.utf8), until: end)
                    counts.withLock { $0.spawns += spawns; $0.failures += failures }
                    if remaining.withLock({ $0 -= 1; return $0 }) == 0 { continuation.resume() }
                }
                thread.start()
            }
        }
        let elapsed = ContinuousClock.now - started
        return counts.withLock {
            Result(
                spawns: $0.spawns, elapsed: elapsed, failures: $0.failures, childCPUSeconds: childrenCPUSeconds() - childCPUBefore,
                parentCPUSeconds: ownCPUSeconds() - parentCPUBefore)
        }
    }

    private static func loop(executable: String, input: [UInt8], until end: ContinuousClock.Instant) -> (Int, Int) {
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var spawns = 0
        var failures = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < end {
            if runOnce(executable, argv: argv, envp: envp, input: input, buffer: &buffer) { spawns += 1 } else { failures += 1 }
        }
        return (spawns, failures)
    }

    private static func runOnce(
        _ executable: String, argv: [UnsafeMutablePointer<CChar>?], envp: [UnsafeMutablePointer<CChar>?], input: [UInt8],
        buffer: inout [UInt8]
    ) -> Bool {
        var stdinPipe: [Int32] = [0, 0]
        var stdoutPipe: [Int32] = [0, 0]
        // O_CLOEXEC: other threads spawn at the same time and must not inherit these ends.
        guard pipe2(&stdinPipe, O_CLOEXEC) == 0 else { return false }
        guard pipe2(&stdoutPipe, O_CLOEXEC) == 0 else {
            close(stdinPipe[0]); close(stdinPipe[1])
            return false
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        posix_spawn_file_actions_destroy(&actions)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        guard spawned == 0 else {
            close(stdinPipe[1]); close(stdoutPipe[0])
            return false
        }
        _ = input.withUnsafeBytes { write(stdinPipe[1], $0.baseAddress, $0.count) }
        close(stdinPipe[1])
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(stdoutPipe[0], $0.baseAddress, $0.count) }
            if count > 0 { total += count; continue }
            if count < 0 && errno == EINTR { continue }
            break
        }
        close(stdoutPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status == 0 && total == input.count
    }
}
