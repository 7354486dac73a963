import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Durable steps for the tests that use the file system: write and fsync, fsync a directory.
enum Durably {
    /// Creates (or truncates) `path` with `text`, appends it, or with `offset` writes it there
    /// over what the file holds; fsyncs it when `sync` (`fdatasync` with `dataOnly`).
    @discardableResult
    static func write(
        _ text: String, to path: String, sync: Bool, append: Bool = false, at offset: Int? = nil, dataOnly: Bool = false
    ) -> Int32 {
        let mode = append ? O_APPEND : offset == nil ? O_TRUNC : 0
        let fd = open(path, O_WRONLY | O_CREAT | mode | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { buffer in
            offset.map { pwrite(fd, buffer.baseAddress, buffer.count, off_t($0)) } ?? Glibc.write(fd, buffer.baseAddress, buffer.count)
        }
        if written != bytes.count { return errno }
        if sync && (dataOnly ? fdatasync(fd) : fsync(fd)) != 0 { return errno }
        return 0
    }

    /// Creates `path` as a directory and fsyncs its parent, as `StateDirectory=` leaves one.
    static func makeDirectory(_ path: String) -> Int32 {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { return errno }
        return syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func syncDirectory(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return fsync(fd) == 0 ? 0 : errno
    }

    /// The file's text, nil when it cannot be read.
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
