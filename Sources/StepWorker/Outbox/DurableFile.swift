import Glibc
import POSIXSupport

/// A file-system call that failed, with the path and the errno text.
public struct DurableFileError: Error, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// Writes that survive a crash or power loss: write a temporary file, fsync it, rename it into
/// place, fsync the directory. A reader sees the old state or the new one, never half a file.
enum DurableFile {
    /// Creates `path` if it is missing, durably: a directory made here is fsynced into its parent.
    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(DurableFileError) {
        guard mkdir(path, mode) == 0 else {
            if errno == EEXIST { return }
            throw DurableFileError(operation: "mkdir", path: path, errno: errno)
        }
        let parent = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        try syncDirectory(parent)
    }

    /// Removes the temporary files of writes a crash interrupted (at start, before anyone writes).
    static func removeLeftovers(in directory: String) {
        for name in (try? names(in: directory)) ?? [] where name.hasPrefix(".tmp-") { unlink("\(directory)/\(name)") }
    }

    static func write(_ bytes: [UInt8], to path: String, in directory: String) throws(DurableFileError) {
        let temporary = "\(directory)/.tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DurableFileError(operation: "open", path: temporary, errno: errno) }
        do throws(SystemCallError) {
            try POSIX.writeAll(bytes, to: fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw DurableFileError(operation: "write", path: temporary, errno: error.errno)
        }
        if fsync(fd) != 0 {
            let error = errno
            close(fd)
            unlink(temporary)
            throw DurableFileError(operation: "fsync", path: temporary, errno: error)
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let error = errno
            unlink(temporary)
            throw DurableFileError(operation: "rename", path: path, errno: error)
        }
        try syncDirectory(directory)
    }

    /// Removes `path`; a file already gone is fine. The removal is not fsynced: the ledger only
    /// removes records that are done with, and one a crash brings back is harmless (its result
    /// is sent again and the service answers that the task is finished), while a directory
    /// fsync per removal cost a third of the ledger's fsyncs (docs/benchmark.md).
    static func remove(_ path: String) throws(DurableFileError) {
        if unlink(path) != 0 {
            if errno == ENOENT { return }
            throw DurableFileError(operation: "unlink", path: path, errno: errno)
        }
    }

    static func read(_ path: String) throws(DurableFileError) -> [UInt8] {
        do throws(SystemCallError) {
            return try POSIX.readFile(atPath: path)
        } catch {
            throw DurableFileError(operation: error.call, path: path, errno: error.errno)
        }
    }

    /// The names in `directory` that end with `suffix`, sorted, hidden ones left out.
    static func list(_ directory: String, suffix: String) throws(DurableFileError) -> [String] {
        try names(in: directory).filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }
    }

    /// Every name in `directory` but `.` and `..`, sorted.
    static func names(in directory: String) throws(DurableFileError) -> [String] {
        guard let dir = opendir(directory) else { throw DurableFileError(operation: "opendir", path: directory, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func syncDirectory(_ directory: String) throws(DurableFileError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DurableFileError(operation: "open", path: directory, errno: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw DurableFileError(operation: "fsync", path: directory, errno: errno) }
    }
}
