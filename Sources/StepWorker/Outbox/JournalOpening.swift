import Glibc
import POSIXSupport

/// The journal's opening at start, whatever is at its path: the state directory is the
/// daemon's, but whoever can write it must not be able to stall the start. Nothing here blocks
/// or reads without bound:
/// - the path is looked at (`lstat`), opened with `O_NONBLOCK | O_NOFOLLOW` and checked with
///   `fstat` before any read: a FIFO (whose `open` for writing blocked the start for ever,
///   SIGTERM unanswered), a directory, a socket, a device or a symbolic link is moved aside,
///   unread;
/// - a regular file larger than the most the daemon can have written (`maxSize`) is moved
///   aside unread (a 2 GiB sparse tail was read whole: 4.1 GB resident);
/// - the rest is read once, in chunks, skipping holes (`SEEK_DATA`/`SEEK_HOLE`).
///
/// What is moved aside is renamed to the first free `ledger.journal.N.corrupt` next to it (the
/// name damaged bytes are kept under), the directory fsynced, and the start goes on with a new,
/// empty journal; the description names the path, what was there and where it went.
enum JournalOpening {
    /// What `open` found: a regular file of `size` bytes, open for reading and writing, and
    /// what was moved aside to get it (nil: nothing).
    struct Opened {
        var fd: Int32
        var size: Int
        var movedAside: String?
    }

    /// What `read` returns: the file's bytes (holes as zeros, a trailing hole only as far as a
    /// frame could reach into it), and how many it read from the disk.
    struct Contents {
        var bytes: [UInt8]
        var bytesRead: Int
    }

    /// Opens `path` for reading and writing, creating it durably (the file and `directory`
    /// fsynced) when missing; anything but a regular file of at most `maxSize` bytes is moved
    /// aside first.
    static func open(_ path: String, in directory: String, maxSize: Int) throws(DurableFileError) -> Opened {
        var movedAside: String?
        while true {
            let created = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if created >= 0 {
                guard fsync(created) == 0 else {
                    let error = errno
                    Glibc.close(created)
                    throw DurableFileError(operation: "fsync", path: path, errno: error)
                }
                try DurableFile.syncDirectory(directory)
                return Opened(fd: created, size: 0, movedAside: movedAside)
            }
            guard errno == EEXIST else { throw DurableFileError(operation: "open", path: path, errno: errno) }
            // Looked at before it is opened, so a FIFO or a device is never opened at all; then
            // opened without blocking or following a link and looked at again, in case it was
            // swapped in between.
            var status = stat()
            var problem = lstat(path, &status) == 0 ? kind(status.st_mode).map { "is \($0), not a regular file" } : nil
            if problem == nil {
                let fd = Glibc.open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
                if fd < 0 {
                    let error = errno
                    guard lstat(path, &status) == 0, let kind = kind(status.st_mode) else {
                        throw DurableFileError(operation: "open", path: path, errno: error)
                    }
                    problem = "is \(kind), not a regular file"
                } else {
                    guard fstat(fd, &status) == 0 else {
                        let error = errno
                        Glibc.close(fd)
                        throw DurableFileError(operation: "fstat", path: path, errno: error)
                    }
                    if let kind = kind(status.st_mode) {
                        problem = "is \(kind), not a regular file"
                    } else if Int(status.st_size) > maxSize {
                        problem = "is \(status.st_size) bytes, more than the \(maxSize) the daemon can have written"
                    } else {
                        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
                        return Opened(fd: fd, size: Int(status.st_size), movedAside: movedAside)
                    }
                    Glibc.close(fd)
                }
            }
            // Once only: something that keeps putting files there is an error, not a loop.
            guard movedAside == nil else { throw DurableFileError(operation: "open", path: path, errno: EEXIST) }
            let aside = freeAsidePath(for: path)
            guard rename(path, aside) == 0 else { throw DurableFileError(operation: "rename", path: path, errno: errno) }
            try DurableFile.syncDirectory(directory)
            movedAside = "\(path) \(problem ?? "is not a regular file"); moved unread to \(aside)"
        }
    }

    /// The bytes of the regular file open as `fd`, whose size is `size` (at most the bound
    /// `open` checked): its data extents (`SEEK_DATA`/`SEEK_HOLE`; the whole file where the file
    /// system has neither) read in chunks of 1 MiB, holes in between as zeros without reading
    /// them, and a trailing hole only as far as a frame could reach into it. `stop` is asked
    /// before each chunk: true gives up with ECANCELED.
    static func read(_ fd: Int32, size: Int, stop: () -> Bool = { false }) throws(SystemCallError) -> Contents {
        var extents: [Range<Int>] = []
        var position = 0
        while position < size {
            var data = Int(lseek(fd, off_t(position), seekData))
            if data < 0 {
                if errno == ENXIO { break }  // only a hole is left
                data = position  // no SEEK_DATA here: read on
            }
            guard data < size else { break }
            var hole = Int(lseek(fd, off_t(data), seekHole))
            if hole <= data { hole = size }
            position = min(hole, size)
            extents.append(data..<position)
        }
        // A frame's last bytes may be zeros in the hole; nothing past one frame's reach matters.
        let reach = (extents.last?.upperBound ?? 0) + JournalFormat.headerSize + JournalFormat.maxPayload
        var bytes = [UInt8](repeating: 0, count: min(size, reach))
        var bytesRead = 0
        for extent in extents {
            var at = extent.lowerBound
            while at < extent.upperBound {
                if stop() { throw SystemCallError(call: "read", errno: ECANCELED) }
                let count = min(extent.upperBound - at, 1 << 20)
                let got = bytes.withUnsafeMutableBytes { raw in pread(fd, raw.baseAddress! + at, count, off_t(at)) }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw SystemCallError(call: "pread", errno: errno)
                }
                if got == 0 { return Contents(bytes: Array(bytes[..<at]), bytesRead: bytesRead) }  // it shrank meanwhile
                bytesRead += got
                at += got
            }
        }
        return Contents(bytes: bytes, bytesRead: bytesRead)
    }

    /// Linux's `SEEK_DATA` and `SEEK_HOLE` (Glibc declares them only under `_GNU_SOURCE`).
    private static let seekData: Int32 = 3
    private static let seekHole: Int32 = 4

    /// The first free `path.N.corrupt`, N from 1.
    static func freeAsidePath(for path: String) -> String {
        var n = 1
        var status = stat()
        while lstat("\(path).\(n).corrupt", &status) == 0 { n += 1 }
        return "\(path).\(n).corrupt"
    }

    /// What a file of `mode` is, when it is not a regular file.
    private static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFLNK: "a symbolic link"
        default: "of unknown type \(mode & S_IFMT)"
        }
    }
}
