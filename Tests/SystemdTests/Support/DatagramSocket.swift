import Glibc

/// A unix datagram socket bound where sd_notify sends: a file path or an abstract name.
final class DatagramSocket {
    /// What to put in `NOTIFY_SOCKET`: the path, or `@name` for an abstract socket.
    let notifySocket: String
    private let fd: Int32
    private let path: String?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Binds at `path` (a file in the file system).
    convenience init(path: String) throws {
        try self.init(address: Array(path.utf8), notifySocket: path, path: path)
    }

    /// Binds in the abstract namespace as `name` (`@name` in `NOTIFY_SOCKET`).
    convenience init(abstractName name: String) throws {
        try self.init(address: [0] + Array(name.utf8), notifySocket: "@" + name, path: nil)
    }

    private init(address: [UInt8], notifySocket: String, path: String?) throws {
        self.notifySocket = notifySocket
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var unixAddress = sockaddr_un()
        unixAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: unixAddress.sun_path)
        guard address.count < capacity else { close(fd); throw Failure(description: "address too long") }
        withUnsafeMutableBytes(of: &unixAddress.sun_path) { $0.copyBytes(from: address) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + address.count)
        let result = withUnsafePointer(to: &unixAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "bind \(notifySocket): errno \(error)")
        }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, or nil when none arrives within `timeout`. Polls without blocking the
    /// thread, so the code under test keeps its cooperative threads.
    func receive(timeout: Duration) async -> String? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while true {
            if let message = receiveNow() { return message }
            if clock.now >= end { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Every datagram that arrives from now until `duration` has passed.
    func receiveAll(for duration: Duration) async -> [String] {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: duration)
        var messages: [String] = []
        while clock.now < end {
            if let message = receiveNow() {
                messages.append(message)
            } else {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return messages
    }

    /// A datagram already queued, or nil.
    func receiveNow() -> String? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Throws away whatever is queued.
    func drain() {
        while receiveNow() != nil {}
    }
}
