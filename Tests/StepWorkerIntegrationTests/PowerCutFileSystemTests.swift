import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The power-cut file system itself: after a cut only what was fsynced is there. Needs root,
/// /dev/fuse, gcc and libfuse3-dev (`scripts/install-deps.sh`); skips, saying which, elsewhere.
@Suite(
    "powercut-fs", .enabled(if: PowerCutFileSystem.isAvailable, "needs root, /dev/fuse, gcc and libfuse3-dev (scripts/install-deps.sh); the reason is printed"),
    .timeLimit(.minutes(1)))
struct PowerCutFileSystemTests {
    func withDisk(
        _ order: PowerCutFileSystem.Order, tornTails: Bool = false, _ body: (PowerCutFileSystem, String) async throws -> Void
    ) async throws {
        let directory = ChaosTests.makeKeptDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let disk = try await PowerCutFileSystem(mountPoint: directory + "/disk", order: order, tornTails: tornTails)
        do {
            let dir = disk.mountPoint + "/d"
            #expect(Durably.makeDirectory(dir) == 0)
            try await body(disk, dir)
        } catch {
            await disk.unmount()
            throw error
        }
        await disk.unmount()
    }

    func reboot(_ disk: PowerCutFileSystem) {
        disk.cut()
        disk.powerOn()
    }

    @Test func aWriteWithoutFsyncIsGoneAfterTheCutAndAnFsyncedOneSurvives() async throws {
        try await withDisk(.directory) { disk, dir in
            #expect(Durably.write("durable", to: dir + "/a", sync: true) == 0)
            #expect(Durably.syncDirectory(dir) == 0)
            #expect(Durably.write("+lost", to: dir + "/a", sync: false, append: true) == 0)
            #expect(Durably.read(dir + "/a") == "durable+lost")
            reboot(disk)
            #expect(Durably.read(dir + "/a") == "durable")
            #expect(Durably.write("+kept", to: dir + "/a", sync: true, append: true) == 0)
            reboot(disk)
            #expect(Durably.read(dir + "/a") == "durable+kept")
        }
    }

    @Test func directoryOrderANameIsDurableOnlyOnceItsDirectoryIsFsynced() async throws {
        try await withDisk(.directory) { disk, dir in
            #expect(Durably.write("x", to: dir + "/synced-file-only", sync: true) == 0)
            #expect(Durably.write("y", to: dir + "/tmp", sync: true) == 0)
            #expect(Durably.syncDirectory(dir) == 0)
            #expect(rename(dir + "/tmp", dir + "/renamed") == 0)
            #expect(Durably.write("unsynced", to: dir + "/data-only", sync: false) == 0)
            #expect(Durably.write("z", to: disk.mountPoint + "/elsewhere", sync: true) == 0)
            #expect(Durably.syncDirectory(disk.mountPoint) == 0)  // another directory: no help
            reboot(disk)
            #expect(Durably.read(dir + "/synced-file-only") != nil)  // its name came with the directory fsync
            #expect(Durably.read(dir + "/tmp") == "y")  // the rename was not durable
            #expect(Durably.read(dir + "/renamed") == nil)
            #expect(unlink(dir + "/tmp") == 0)
            reboot(disk)
            #expect(Durably.read(dir + "/tmp") == "y")  // nor was the unlink
            #expect(unlink(dir + "/tmp") == 0)
            #expect(Durably.syncDirectory(dir) == 0)
            reboot(disk)
            #expect(Durably.read(dir + "/tmp") == nil)
            #expect(Durably.read(disk.mountPoint + "/elsewhere") == "z")
        }
    }

    @Test func journalOrderAnyFsyncCommitsEveryEarlierNameChange() async throws {
        try await withDisk(.journal) { disk, dir in
            #expect(Durably.write("y", to: dir + "/tmp", sync: true) == 0)  // the fsync commits its name too
            #expect(rename(dir + "/tmp", dir + "/renamed") == 0)
            reboot(disk)
            #expect(Durably.read(dir + "/renamed") == nil)  // nothing fsynced since the rename
            #expect(Durably.read(dir + "/tmp") == "y")
            #expect(rename(dir + "/tmp", dir + "/renamed") == 0)
            #expect(Durably.write("unsynced", to: dir + "/data-only", sync: false) == 0)
            #expect(Durably.write("z", to: disk.mountPoint + "/other", sync: true) == 0)
            reboot(disk)
            #expect(Durably.read(dir + "/renamed") == "y")  // committed by another file's fsync
            #expect(Durably.read(dir + "/tmp") == nil)
            #expect(Durably.read(dir + "/data-only") == "")  // its name is durable, its data never was
        }
    }

    /// fdatasync makes the file's bytes durable but no name, even in journal order (stricter
    /// than ext4, which commits its journal when the size grew): the ledger's journal must not
    /// count on it for its own name.
    @Test func fdatasyncKeepsTheDataButCommitsNoName() async throws {
        for order in [PowerCutFileSystem.Order.journal, .directory] {
            try await withDisk(order) { disk, dir in
                #expect(Durably.write("journal", to: dir + "/j", sync: true) == 0)
                #expect(Durably.syncDirectory(dir) == 0)
                #expect(Durably.write("+record", to: dir + "/j", sync: true, append: true, dataOnly: true) == 0)
                #expect(Durably.write("x", to: dir + "/created", sync: true, dataOnly: true) == 0)
                reboot(disk)
                #expect(Durably.read(dir + "/j") == "journal+record", "\(order)")
                #expect(Durably.read(dir + "/created") == nil, "\(order): its name was never committed")
            }
        }
    }

    /// With --torn-tails a cut keeps a prefix of an appended, unsynced tail, from none of it to
    /// all of it; the synced part always stays, and a file rewritten in place loses its change.
    @Test func aTornTailKeepsAPrefixOfTheUnsyncedAppend() async throws {
        try await withDisk(.directory, tornTails: true) { disk, dir in
            #expect(Durably.write("synced", to: dir + "/j", sync: true) == 0)
            #expect(Durably.syncDirectory(dir) == 0)
            var kept: Set<Int> = []
            for _ in 0..<40 {
                let before = Durably.read(dir + "/j") ?? ""
                #expect(Durably.write("0123456789", to: dir + "/j", sync: false, append: true) == 0)
                reboot(disk)
                let after = try #require(Durably.read(dir + "/j"))
                #expect(after.hasPrefix(before) && (before + "0123456789").hasPrefix(after))
                kept.insert(after.count - before.count)
                #expect(Durably.write(after, to: dir + "/j", sync: true) == 0)  // start again from what survived
            }
            #expect(kept.count > 1, "a random part survives, not always the same: \(kept.sorted())")
            #expect(Durably.write("x", to: dir + "/j", sync: false) == 0)
            reboot(disk)
            #expect(Durably.read(dir + "/j")?.hasPrefix("synced") == true)
        }
    }

    /// The same for records written over zeroed space that was synced ahead of them (as the
    /// ledger journal keeps it): a prefix of what changed survives, the rest stays zero, and the
    /// file keeps its length.
    @Test func aTornWriteOverZeroedSpaceKeepsAPrefixOfIt() async throws {
        try await withDisk(.directory, tornTails: true) { disk, dir in
            let zeros = String(repeating: "\0", count: 20)
            #expect(Durably.write("synced" + zeros, to: dir + "/j", sync: true) == 0)
            #expect(Durably.syncDirectory(dir) == 0)
            var kept: Set<Int> = []
            for _ in 0..<40 {
                #expect(Durably.write("0123456789", to: dir + "/j", sync: false, at: 6) == 0)
                reboot(disk)
                let after = try #require(Durably.read(dir + "/j"))
                #expect(after.count == 26 && after.hasPrefix("synced"))
                let written = after.dropFirst(6).prefix { $0 != "\0" }
                #expect("0123456789".hasPrefix(written) && after.dropFirst(6 + written.count) == zeros.prefix(20 - written.count))
                kept.insert(written.count)
                #expect(Durably.write("synced" + zeros, to: dir + "/j", sync: true) == 0)  // start again
            }
            #expect(kept.count > 1, "a random part survives, not always the same: \(kept.sorted())")
        }
    }

    @Test func whileThePowerIsOffEveryCallFails() async throws {
        try await withDisk(.directory) { disk, dir in
            disk.cut()
            #expect(Durably.write("x", to: dir + "/a", sync: true) == EIO)
            disk.powerOn()
            #expect(Durably.write("x", to: dir + "/a", sync: true) == 0)
        }
    }
}
