import Glibc

/// A unix datagram socket bound where sd_notify sends (`NOTIFY_SOCKET`), for the tests that run
/// the real binary: it collects every message so a test waits for `READY=1` instead of sleeping.
final class NotifySocket {
    let path: String
    private let fd: Int32
    private(set) var received: [String] = []

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { close(fd); throw Failure(description: "path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "bind \(path): errno \(error)")
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Every `KEY=VALUE` line received so far.
    var assignments: [String] {
        received.flatMap { $0.split(separator: "\n").map(String.init) }
    }

    /// Collects messages until one has a line `predicate` accepts; false after `timeout`.
    func waitFor(timeout: Duration = .seconds(20), _ predicate: (String) -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while true {
            collect()
            if assignments.contains(where: predicate) { return true }
            if clock.now >= end { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Takes in whatever is queued.
    func collect() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard count >= 0 else { return }
            received.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
    }
}
