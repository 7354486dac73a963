import Glibc
import POSIXSupport

/// The open journal: appends (each batch one `write`, then `fdatasync` when asked), and its
/// replacement by a compacted copy. Only the committer's seat holder touches it.
struct JournalFile: Sendable {
    let path: String
    let directory: String
    private(set) var fd: Int32
    /// Bytes in the file.
    private(set) var size: Int
    /// Its size right after the last replacement (what the kept records take).
    private(set) var compactedSize: Int

    /// Opens `path` for appending, creating it durably (the file and its directory fsynced).
    static func open(_ path: String, in directory: String) throws(DurableFileError) -> JournalFile {
        var fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            guard fsync(fd) == 0 else {
                let error = errno
                Glibc.close(fd)
                throw DurableFileError(operation: "fsync", path: path, errno: error)
            }
            try DurableFile.syncDirectory(directory)
        } else if errno == EEXIST {
            fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        }
        guard fd >= 0 else { throw DurableFileError(operation: "open", path: path, errno: errno) }
        let size = Int(lseek(fd, 0, SEEK_END))
        return JournalFile(path: path, directory: directory, fd: fd, size: size, compactedSize: size)
    }

    /// Appends `bytes` (durably if `sync`). On failure the file is cut back to where it was, so
    /// a failed batch leaves nothing a later sync could make durable half-way.
    mutating func append(_ bytes: [UInt8], sync: Bool) throws(DurableFileError) {
        let before = size
        do throws(SystemCallError) {
            try POSIX.writeAll(bytes, to: fd)
        } catch {
            _ = ftruncate(fd, off_t(before))
            throw DurableFileError(operation: "write", path: path, errno: error.errno)
        }
        size += bytes.count
        if sync && fdatasync(fd) != 0 {
            let error = errno
            _ = ftruncate(fd, off_t(before))
            size = before
            throw DurableFileError(operation: "fdatasync", path: path, errno: error)
        }
    }

    func close() {
        _ = Glibc.close(fd)
    }

    /// Whether the file has grown enough that rewriting it is worth it.
    func wantsCompaction(above limit: Int) -> Bool {
        size > limit && size > 2 * compactedSize
    }

    /// Replaces the file by one holding `state` only: written to a temporary file, fsynced,
    /// renamed over it, the directory fsynced; then appends go to the new file.
    mutating func replace(with state: LedgerState) throws(DurableFileError) {
        var bytes: [UInt8] = []
        for record in state.records { JournalFormat.encode(record, into: &bytes) }
        try DurableFile.write(bytes, to: path, in: directory)
        let fresh = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fresh >= 0 else { throw DurableFileError(operation: "open", path: path, errno: errno) }
        Glibc.close(fd)
        fd = fresh
        size = bytes.count
        compactedSize = bytes.count
    }
}
