import Foundation
import StepWorkerTestKit

#if canImport(Glibc)
import Glibc
#endif

/// A mounted `powercut-fs` (Tests/Fixtures/powercut-fs): a file system that keeps only what was
/// fsynced when its power is cut. Built with gcc on first use; needs root, `/dev/fuse`, gcc and
/// libfuse3 (`scripts/install-deps.sh` installs the packages).
final class PowerCutFileSystem {
    /// When an unsynced directory change becomes durable (the program's `--order=`).
    enum Order: String {
        /// Only by an fsync of that directory (POSIX; ext4 with fast_commit, XFS, btrfs).
        case directory
        /// By any fsync: one ordered journal (ext4 data=ordered without fast_commit).
        case journal
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let mountPoint: String
    private let process: Process

    /// Why the power-cut tests cannot run on this machine, nil when they can.
    static let unavailableReason: String? = {
        if geteuid() != 0 { return "needs root to mount a FUSE file system" }
        if access("/dev/fuse", R_OK | W_OK) != 0 { return "needs /dev/fuse" }
        if case .failure(let failure) = program { return "cannot build powercut-fs (gcc, libfuse3-dev?): \(failure)" }
        return nil
    }()

    /// Whether the power-cut tests can run here; when not, says why on stdout (once).
    static let isAvailable: Bool = {
        guard let reason = unavailableReason else { return true }
        print("powercut-fs: skipping the power-cut tests: \(reason)")
        return false
    }()

    /// The built program (in .build, next to the tests), or why it could not be built.
    static let program: Result<String, Failure> = {
        let source = RepositoryPaths.root + "/Tests/Fixtures/powercut-fs/powercut-fs.c"
        let output = RepositoryPaths.root + "/.build/powercut-fs"
        let command = "gcc -O2 -Wall -Wextra -o '\(output)' '\(source)' $(pkg-config --cflags --libs fuse3) 2>&1"
        let (status, text) = run("/bin/sh", ["-c", command])
        return status == 0 ? .success(output) : .failure(Failure(description: text))
    }()

    /// Mounts a fresh, empty file system on `mountPoint` (created if needed).
    /// With `tornTails`, a cut keeps a random prefix of each appended, unsynced file tail.
    init(mountPoint: String, order: Order, tornTails: Bool = false) async throws {
        self.mountPoint = mountPoint
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.program.get())
        process.arguments = ["--order=\(order.rawValue)"] + (tornTails ? ["--torn-tails"] : []) + [mountPoint]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let parent = (mountPoint as NSString).deletingLastPathComponent
        let mounted = try await waitUntil(timeout: .seconds(10)) {
            Self.device(mountPoint) != Self.device(parent) || !self.process.isRunning
        }
        guard mounted, process.isRunning else { throw Failure(description: "powercut-fs did not mount on \(mountPoint)") }
    }

    /// The power goes: the file system holds only what was fsynced, and every call fails with
    /// EIO until `powerOn()`. Done when this returns.
    func cut() { _ = access(mountPoint + "/.powercut-cut", F_OK) }

    /// The power comes back (the "reboot"): what survived the cut is there, calls work again.
    func powerOn() { _ = access(mountPoint + "/.powercut-on", F_OK) }

    /// Unmounts and waits for the program to end.
    func unmount() async {
        _ = Self.run("/bin/umount", [mountPoint])
        if (try? await waitUntil(timeout: .seconds(10)) { !self.process.isRunning }) != true {
            kill(process.processIdentifier, SIGKILL)
            _ = Self.run("/bin/umount", ["-l", mountPoint])
        }
    }

    private static func device(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_dev) : nil
    }

    /// Runs a command to its end: exit status and what it wrote (stdout and stderr).
    static func run(_ executable: String, _ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
