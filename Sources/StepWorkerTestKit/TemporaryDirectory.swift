import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A directory under /tmp that the test owns; removed when dropped.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        var template = Array("/tmp/stepworker-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let created else { fatalError("mkdtemp failed") }
        path = created
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a file; `executable` makes it 0755.
    @discardableResult
    public func write(_ name: String, _ contents: String, executable: Bool = false) -> String {
        let file = path + "/" + name
        _ = FileManager.default.createFile(
            atPath: file, contents: Data(contents.utf8),
            attributes: [.posixPermissions: executable ? 0o755 : 0o644])
        return file
    }

    /// A `/bin/sh` script handler.
    public func script(_ body: String, name: String = "handler.sh") -> String {
        write(name, "#!/bin/sh\n" + body + "\n", executable: true)
    }
}
