import CSockDiag
import POSIXSupport
#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a loopback TCP connection: the kernel's record of the peer's own
/// socket, found by the connection's exact 4-tuple with one `NETLINK_SOCK_DIAG` request (no table
/// to read, no other user's sockets to walk past, a few microseconds). The Runtime API listener
/// lets only the warm process's own user in (`RuntimeAPIAdmission`).
enum PeerCredentials {
    /// The peer socket as the kernel reports it.
    struct PeerSocket: Equatable, Sendable {
        /// TCP state; 1 is ESTABLISHED.
        var state: UInt8
        /// The owner, seen from this process's user namespace (an unmapped uid reads as the
        /// overflow uid, usually 65534).
        var uid: UInt32
        /// 0 for a time-wait socket, which no process holds (and which reports uid 0).
        var inode: UInt32

        static let established: UInt8 = 1
    }

    /// One end of a connection: an IPv4 address and port, both in host byte order.
    struct Endpoint: Equatable, Sendable {
        var address: UInt32
        var port: UInt16

        init(address: UInt32, port: UInt16) {
            self.address = address
            self.port = port
        }

        /// `a.b.c.d` and a port; nil for anything that is not IPv4.
        init?(ipv4 text: String, port: Int) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, let port = UInt16(exactly: port) else { return nil }
            var address: UInt32 = 0
            for part in parts {
                guard let byte = UInt8(part) else { return nil }
                address = address << 8 | UInt32(byte)
            }
            self.address = address
            self.port = port
        }
    }

    enum Lookup: Equatable, Sendable {
        case found(PeerSocket)
        /// No socket has that 4-tuple (the peer is gone, or is not on this host's namespace).
        case notFound
        /// The kernel could not be asked (errno): refuse, never guess.
        case failed(Int32)
    }

    /// The socket whose local end is `peer` and whose remote end is `server`: the client's end
    /// of a connection the server accepted from `peer`.
    static func lookUp(peer: Endpoint, server: Endpoint) -> Lookup {
        var found = csockdiag_socket()
        let status = csockdiag_tcp4_lookup(peer.address, peer.port, server.address, server.port, &found)
        if status == 0 { return .found(PeerSocket(state: found.state, uid: found.uid, inode: found.inode)) }
        return status == -ENOENT ? .notFound : .failed(-status)
    }
}

extension PeerCredentials {
    /// The uid that unmapped users read as, when this process runs in a user namespace that does
    /// not map every uid (`PrivateUsers=yes`, a rootless container); nil in a namespace that maps
    /// them all (the host's), where every uid reads as itself.
    static func overflowUIDIfPartial(
        uidMap: String? = text(atPath: "/proc/self/uid_map"),
        overflow: String? = text(atPath: "/proc/sys/kernel/overflowuid")
    ) -> UInt32? {
        let fields = (uidMap ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        // The initial namespace's map is the one line "0 0 4294967295".
        if fields.count == 3, fields[0] == "0", fields[1] == "0", fields[2] == "4294967295" { return nil }
        return UInt32((overflow ?? "").trimmingWhitespace()) ?? 65534
    }

    private static func text(atPath path: String) -> String? {
        (try? POSIX.readFile(atPath: path, limit: 4096)).map { String(decoding: $0, as: UTF8.self) }
    }
}
