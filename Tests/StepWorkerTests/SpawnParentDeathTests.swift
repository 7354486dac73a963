import Foundation
import StepWorker
import StepWorkerTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `LaunchPlan.spawn`'s contract with the parent: the child is armed with PR_SET_PDEATHSIG,
/// which follows the spawning thread, and it refuses to exec once its parent is not the one it
/// was spawned for (the daemon died before the signal was armed).
@Suite("Spawn: the handler dies with its parent", .timeLimit(.minutes(1)))
struct SpawnParentDeathTests {
    let directory = TemporaryDirectory()

    /// /dev/null three times, for a child whose output does not matter; closed by the caller.
    func nullDescriptors() -> [Int32] {
        (0..<3).map { _ in open("/dev/null", O_RDWR | O_CLOEXEC) }
    }

    func plan(_ arguments: [String]) -> LaunchPlan {
        LaunchPlan(
            executablePath: arguments[0], arguments: arguments, environment: ["PATH": "/usr/bin:/bin"],
            workingDirectory: directory.path, identity: nil)
    }

    /// The wait status of `pid` once it has ended (nil if not within `timeout`).
    func waitStatus(_ pid: Int32, timeout: Duration) async throws -> Int32? {
        var status: Int32 = 0
        guard try await waitUntil(timeout: timeout, { waitpid(pid, &status, WNOHANG) == pid }) else { return nil }
        return status
    }

    @Test func theChildIsKilledWhenTheSpawningThreadExits() async throws {
        let fds = nullDescriptors()
        defer { for fd in fds { close(fd) } }
        let spawned = AsyncStream<Int32>.makeStream()
        let thread = Thread {
            let pid = try? plan(["/bin/sleep", "60"]).spawn(stdin: fds[0], stdout: fds[1], stderr: fds[2])
            spawned.continuation.yield(pid ?? -1)
            spawned.continuation.finish()
        }  // and the thread ends here, with the process still running
        thread.start()
        var iterator = spawned.stream.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        try #require(pid > 0)
        defer { if !processIsGone(pid) { kill(pid, SIGKILL) } }
        let status = try #require(try await waitStatus(pid, timeout: .seconds(10)), "the child outlived its thread")
        #expect(status & 0x7f == SIGKILL, "wait status \(status)")
    }

    @Test func aChildWhoseParentIsNotTheExpectedOneNeverExecs() {
        let fds = nullDescriptors()
        defer { for fd in fds { close(fd) } }
        let marker = directory.path + "/ran"
        // As if the daemon had died before PR_SET_PDEATHSIG: the parent the child sees is
        // not the one it was spawned for.
        do {
            let pid = try plan(["/bin/sh", "-c", "touch \(marker)"]).spawn(
                stdin: fds[0], stdout: fds[1], stderr: fds[2], expectedParent: getppid())
            Issue.record("spawned \(pid) although its parent was not the expected one")
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        } catch {
            #expect(error.message == "parent exited before exec: No such process")
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
