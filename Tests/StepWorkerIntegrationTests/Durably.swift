import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Durable steps for the tests that use the file system: write and fsync, fsync a directory.
enum Durably {
    /// Creates (or truncates) `path` with `text`; fsyncs it when `sync` (`fdatasync` with `dataOnly`).
    @discardableResult
    static func write(_ text: String, to path: String, sync: Bool, append: Bool = false, dataOnly: Bool = false) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        if bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) != bytes.count { return errno }
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
