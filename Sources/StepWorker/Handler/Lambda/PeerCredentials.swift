import POSIXSupport

/// Who is on the other end of a loopback TCP connection: the uid that owns the peer's socket,
/// from `/proc/net/tcp` (the kernel lists every socket of the host's network namespace with its
/// owner). The Runtime API listener lets only the warm process's own user in.
public enum PeerCredentials {
    /// The uid owning the socket whose local port is `peerPort` and whose remote port is
    /// `serverPort` (the client's end of the connection), in the text of `/proc/net/tcp`.
    public static func owner(peerPort: Int, serverPort: Int, table: String) -> UInt32? {
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // Only a connected socket (state 01, ESTABLISHED) is someone's end of a connection.
            guard fields.count > 7, fields[3] == "01", let local = port(fields[1]), let remote = port(fields[2]) else { continue }
            if local == peerPort && remote == serverPort { return UInt32(fields[7]) }
        }
        return nil
    }

    /// The port of `0100007F:1F90` (address and port in hex).
    static func port(_ field: Substring) -> Int? {
        guard let colon = field.lastIndex(of: ":") else { return nil }
        return Int(field[field.index(after: colon)...], radix: 16)
    }

    /// Reads the system's table and finds the owner; nil when the socket is not listed (it went
    /// away) or the table cannot be read.
    public static func owner(peerPort: Int, serverPort: Int) -> UInt32? {
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let bytes = try? POSIX.readFile(atPath: file) else { continue }
            if let uid = owner(peerPort: peerPort, serverPort: serverPort, table: String(decoding: bytes, as: UTF8.self)) {
                return uid
            }
        }
        return nil
    }
}
