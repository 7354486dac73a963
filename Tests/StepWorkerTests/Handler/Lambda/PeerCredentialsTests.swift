#if canImport(Glibc)
import Glibc
#endif
@testable import StepWorker
import Testing

/// The owner of a loopback connection's client end, asked of the kernel by the exact 4-tuple
/// (real sockets, real netlink).
@Suite(.timeLimit(.minutes(1)))
struct PeerCredentialsTests {
    /// A TCP socket bound to `address:port` (0: any port), with SO_REUSEADDR.
    static func socket(bindTo address: String, port: UInt16 = 0) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = Self.address(address, port)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0, "bind \(address):\(port): errno \(errno)")
        return fd
    }

    static func address(_ text: String, _ port: UInt16) -> sockaddr_in {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        inet_pton(AF_INET, text, &socketAddress.sin_addr)
        return socketAddress
    }

    static func port(of fd: Int32) -> UInt16 {
        var socketAddress = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: socketAddress.sin_port)
    }

    static func connect(_ fd: Int32, to text: String, _ port: UInt16) throws {
        var socketAddress = address(text, port)
        let connected = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect: errno \(errno)")
    }

    static func inode(of fd: Int32) -> UInt32 {
        var status = stat()
        _ = fstat(fd, &status)
        return UInt32(truncatingIfNeeded: status.st_ino)
    }

    static func endpoint(_ text: String, _ port: UInt16) -> PeerCredentials.Endpoint {
        PeerCredentials.Endpoint(ipv4: text, port: Int(port))!
    }

    @Test func findsTheClientEndOfAConnectionWithItsOwnerAndInode() throws {
        let listener = try Self.socket(bindTo: "127.0.0.1")
        defer { close(listener) }
        try #require(listen(listener, 4) == 0)
        let serverPort = Self.port(of: listener)
        let client = try Self.socket(bindTo: "127.0.0.1")
        defer { close(client) }
        try Self.connect(client, to: "127.0.0.1", serverPort)
        let lookup = PeerCredentials.lookUp(
            peer: Self.endpoint("127.0.0.1", Self.port(of: client)), server: Self.endpoint("127.0.0.1", serverPort))
        #expect(lookup == .found(.init(state: 1, uid: getuid(), inode: Self.inode(of: client))))
    }

    /// The hole `/proc/net/tcp` matching by ports left: a client bound to 127.0.0.2 with the
    /// listener's own port makes two sockets whose ports both read "L -> L" (its own, and the
    /// server's accepted one). The exact 4-tuple names only the client's.
    @Test func aClientWhosePortsMirrorTheListenersIsToldFromTheServersSocket() throws {
        let listener = try Self.socket(bindTo: "127.0.0.1")
        defer { close(listener) }
        try #require(listen(listener, 4) == 0)
        let serverPort = Self.port(of: listener)
        let client = try Self.socket(bindTo: "127.0.0.2", port: serverPort)
        defer { close(client) }
        try Self.connect(client, to: "127.0.0.1", serverPort)
        let accepted = accept(listener, nil, nil)
        try #require(accepted >= 0)
        defer { close(accepted) }
        let clientEnd = PeerCredentials.lookUp(
            peer: Self.endpoint("127.0.0.2", serverPort), server: Self.endpoint("127.0.0.1", serverPort))
        #expect(clientEnd == .found(.init(state: 1, uid: getuid(), inode: Self.inode(of: client))))
        let serverEnd = PeerCredentials.lookUp(
            peer: Self.endpoint("127.0.0.1", serverPort), server: Self.endpoint("127.0.0.2", serverPort))
        #expect(serverEnd == .found(.init(state: 1, uid: getuid(), inode: Self.inode(of: accepted))))
        #expect(Self.inode(of: client) != Self.inode(of: accepted))
    }

    @Test func aConnectionThatDoesNotExistIsNotFound() throws {
        let lookup = PeerCredentials.lookUp(peer: Self.endpoint("127.0.0.1", 1), server: Self.endpoint("127.0.0.1", 2))
        #expect(lookup == .notFound)
    }
}
