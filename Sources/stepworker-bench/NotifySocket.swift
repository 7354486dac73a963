import Foundation
import Glibc

/// A unix datagram socket bound where sd_notify sends (`NOTIFY_SOCKET`), standing in for systemd.
/// A thread of its own blocks in `recv`, so each message is timestamped (monotonic) the moment it
/// arrives: that is what "time to READY=1" is measured against.
final class NotifySocket: Sendable {
    struct Message: Sendable {
        var text: String
        var at: ContinuousClock.Instant
    }

    let path: String
    private let fd: Int32
    private let state = Locked<[Message]>([])
    private let stopped = Locked(false)

    init(path: String) throws {
        self.path = path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw BenchError("notify socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw BenchError("bind \(path): errno \(error)")
        }
        // Wake up every 100 ms to notice `shutdown()`; a message still returns from recv at once.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        let state = self.state
        let stopped = self.stopped
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !stopped.withLock({ $0 }) {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                let now = ContinuousClock.now
                if count <= 0 { continue }  // timeout, EINTR, or an empty datagram
                let text = String(decoding: buffer[..<count], as: UTF8.self)
                state.withLock { $0.append(Message(text: text, at: now)) }
            }
            close(fd)
        }
        thread.name = "notify-socket"
        thread.start()
    }

    /// Stops the receiving thread and removes the socket.
    func shutdown() {
        stopped.withLock { $0 = true }
        unlink(path)
    }

    /// When a message with a line equal to `line` arrived; nil after `timeout`.
    func wait(for line: String, timeout: Duration = .seconds(30)) async -> ContinuousClock.Instant? {
        let end = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < end {
            let found = state.withLock { messages in
                messages.first { $0.text.split(separator: "\n").contains { $0 == line } }?.at
            }
            if let found { return found }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }
}
