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

    /// What the journal held when it was opened: its records and damage (`parsed`), the
    /// damaged bytes themselves (to keep aside), and what was moved aside unread to open it
    /// (`JournalOpening`). Read once: recovery works from this, not from a second read.
    struct Found {
        var parsed = JournalFormat.Parsed()
        var unreadable: [[UInt8]] = []
        var movedAside: String?
    }

    /// Opens `path` (`JournalOpening`: created durably when missing; anything but a regular file
    /// of at most `maxSize` bytes moved aside unread), and reads what it holds, once; the next
    /// batch goes where its data ends. `stop`, asked while reading, gives up with ECANCELED.
    static func open(
        _ path: String, in directory: String, maxSize: Int, stop: () -> Bool = { false }
    ) throws(DurableFileError) -> (JournalFile, Found) {
        let opened = try JournalOpening.open(path, in: directory, maxSize: maxSize)
        var found = Found(movedAside: opened.movedAside)
        if opened.size > 0 {
            do throws(SystemCallError) {
                let bytes = try JournalOpening.read(opened.fd, size: opened.size, stop: stop).bytes
                var checksums: RangeChecksums?
                guard let parsed = JournalFormat.parse(bytes, checksums: &checksums, stop: stop) else {
                    throw SystemCallError(call: "read", errno: ECANCELED)
                }
                found.parsed = parsed
                found.unreadable = parsed.unreadable.map { Array(bytes[$0]) }
            } catch {
                Glibc.close(opened.fd)
                throw DurableFileError(operation: error.call, path: path, errno: error.errno)
            }
        }
        let end = found.parsed.end
        let length = max(end, opened.size)
        let file = JournalFile(path: path, directory: directory, fd: opened.fd, size: end, length: length, compactedSize: end)
        return (file, found)
    }

    /// Whether `path` still names the file open here: another ledger on the same directory (as
    /// tests make) may have replaced it since.
    func isStillAtItsPath() -> Bool {
        var open = stat(), named = stat()
        guard fstat(fd, &open) == 0, lstat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
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
