import Glibc
import POSIXSupport

/// The open journal: its records, then zeroed space written and synced ahead of them
/// (`keepZeroedAhead`), and its replacement by a compacted copy. A batch is one `pwrite` where
/// the records end, then `fdatasync` when asked. Writing over space the file already holds
/// leaves the file system no size or block allocation to commit, so the sync flushes data alone
/// (on this machine's ext4 about 0.11 ms against 0.16 ms for an append; docs/benchmark.md), as
/// databases do for their write-ahead logs. The reader skips zero bytes (`JournalFormat`).
/// Only the committer's seat holder touches it.
struct JournalFile: Sendable {
    /// How much zeroed space is written ahead at once, and how little may be left before more is.
    static let zeroedAhead = 1 << 20
    static let refillBelow = 256 << 10

    let path: String
    let directory: String
    private(set) var fd: Int32
    /// Where the records end (the next batch goes here); only zero bytes follow.
    private(set) var size: Int
    /// The file's length: `size` plus the zeroed space ahead.
    private(set) var length: Int
    /// Its size right after the last replacement (what the kept records take).
    private(set) var compactedSize: Int
    /// Where the records ended when writing zeros ahead last failed (a full disk): not tried
    /// again until another `zeroedAhead` of records is written.
    private var zeroingFailedAt: Int?

    /// Opens `path`, creating it durably (the file and its directory fsynced), and reads what it
    /// holds; the next batch goes where its data ends.
    static func open(_ path: String, in directory: String) throws(DurableFileError) -> (JournalFile, JournalFormat.Parsed) {
        var fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            guard fsync(fd) == 0 else {
                let error = errno
                Glibc.close(fd)
                throw DurableFileError(operation: "fsync", path: path, errno: error)
            }
            try DurableFile.syncDirectory(directory)
        } else if errno == EEXIST {
            fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw DurableFileError(operation: "open", path: path, errno: errno) }
        let parsed: JournalFormat.Parsed
        do throws(DurableFileError) {
            parsed = JournalFormat.parse(try DurableFile.read(path))
        } catch {
            Glibc.close(fd)
            throw error
        }
        let length = max(parsed.end, Int(lseek(fd, 0, SEEK_END)))
        let file = JournalFile(path: path, directory: directory, fd: fd, size: parsed.end, length: length, compactedSize: parsed.end)
        return (file, parsed)
    }

    /// Writes `bytes` where the records end (durably if `sync`). On failure the file is cut back
    /// to where they ended, so a failed batch leaves nothing a later sync could make durable
    /// half-way.
    mutating func append(_ bytes: [UInt8], sync: Bool) throws(DurableFileError) {
        let before = size
        do throws(SystemCallError) {
            try POSIX.writeAll(bytes, to: fd, at: before)
        } catch {
            cutBack(to: before)
            throw DurableFileError(operation: "pwrite", path: path, errno: error.errno)
        }
        size += bytes.count
        length = max(length, size)
        if sync && fdatasync(fd) != 0 {
            let error = errno
            cutBack(to: before)
            throw DurableFileError(operation: "fdatasync", path: path, errno: error)
        }
    }

    /// When less than `refillBelow` of zeroed space is left, writes zeros up to `zeroedAhead`
    /// past the records and syncs them (the committer calls it once its writers have been
    /// told). Best effort: if that fails, the file is cut back to its records and batches grow
    /// it as appends until a later try succeeds.
    mutating func keepZeroedAhead() {
        guard length - size < Self.refillBelow else { return }
        if let failedAt = zeroingFailedAt, size < failedAt + Self.zeroedAhead { return }
        let target = size + Self.zeroedAhead
        do throws(SystemCallError) {
            try POSIX.writeAll([UInt8](repeating: 0, count: target - length), to: fd, at: length)
            guard fdatasync(fd) == 0 else { throw SystemCallError(call: "fdatasync", errno: errno) }
            length = target
            zeroingFailedAt = nil
        } catch {
            cutBack(to: size)
            zeroingFailedAt = size
        }
    }

    /// Cuts the file to `end`, zeroed space and all.
    private mutating func cutBack(to end: Int) {
        _ = ftruncate(fd, off_t(end))
        size = end
        length = max(end, Int(lseek(fd, 0, SEEK_END)))
    }

    func close() {
        _ = Glibc.close(fd)
    }

    /// Whether the file has grown enough that rewriting it is worth it.
    func wantsCompaction(above limit: Int) -> Bool {
        size > limit && size > 2 * compactedSize
    }

    /// Replaces the file by one holding `state` only: written to a temporary file, fsynced,
    /// renamed over it, the directory fsynced; then batches go to the new file (which has no
    /// zeroed space until `keepZeroedAhead`).
    mutating func replace(with state: LedgerState) throws(DurableFileError) {
        var bytes: [UInt8] = []
        for record in state.records { JournalFormat.encode(record, into: &bytes) }
        try DurableFile.write(bytes, to: path, in: directory)
        let fresh = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        guard fresh >= 0 else { throw DurableFileError(operation: "open", path: path, errno: errno) }
        Glibc.close(fd)
        fd = fresh
        size = bytes.count
        length = bytes.count
        compactedSize = bytes.count
        zeroingFailedAt = nil
    }
}
