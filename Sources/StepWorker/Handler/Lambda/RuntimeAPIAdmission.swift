/// Whether a connection to a warm process's Runtime API listener is served: the rules, with no
/// socket, lookup or clock (`RuntimeAPIServer` performs them).
///
/// A connection is served only while the listener expects one (its process is running), and only
/// when the peer's own socket, found by the exact 4-tuple (`PeerCredentials`), is a connected
/// socket of the process's user. The listener's connection cap (`RuntimeAPIServer.maxConnections`)
/// is checked before any of this, so a flood costs an accept and a close.
///
/// Same user, any process: a process of the handler's user can already read the handler's
/// memory and environment (ptrace, `/proc/PID/mem`) and so its task, so refusing it the listener
/// would protect nothing. Separating handlers from each other takes `user =`.
struct RuntimeAPIAdmission: Sendable {
    enum Refusal: Equatable, Sendable {
        /// No process is running to use the listener: refused without a lookup.
        case notExpecting
        /// The peer is not IPv4 loopback, or the addresses could not be read.
        case unknownPeer
        /// The kernel does not know the peer's socket (it is gone), or could not be asked.
        case lookupFailed(PeerCredentials.Lookup)
        /// The peer's socket is not a connected one a process holds (time-wait reports uid 0).
        case notConnected(state: UInt8)
        /// Another user's socket.
        case otherUser(UInt32)
    }

    enum Verdict: Equatable, Sendable {
        case admit
        case refuse(Refusal)
    }

    /// The uid whose sockets are admitted (the handler's user).
    let allowedUID: UInt32
    /// Whether the overflow uid can stand for unmapped users here (the daemon runs in a user
    /// namespace that does not map every uid, as under `PrivateUsers=yes`): then a peer that reads
    /// as the overflow uid could be anyone, and is refused even when it equals `allowedUID`.
    let overflowUID: UInt32?
    private(set) var expecting = false

    init(allowedUID: UInt32, overflowUID: UInt32?) {
        self.allowedUID = allowedUID
        self.overflowUID = overflowUID
    }

    /// The process that uses the listener is starting (before its spawn, so its first connect
    /// is expected) or has ended.
    mutating func processRunning(_ running: Bool) {
        expecting = running
    }

    /// Whether a lookup is worth making at all.
    func precheck() -> Refusal? {
        expecting ? nil : .notExpecting
    }

    /// The verdict on what the kernel said of the peer's socket.
    func judge(_ lookup: PeerCredentials.Lookup) -> Verdict {
        guard expecting else { return .refuse(.notExpecting) }
        guard case .found(let socket) = lookup else { return .refuse(.lookupFailed(lookup)) }
        guard socket.state == PeerCredentials.PeerSocket.established, socket.inode != 0 else {
            return .refuse(.notConnected(state: socket.state))
        }
        guard socket.uid == allowedUID, socket.uid != overflowUID else { return .refuse(.otherUser(socket.uid)) }
        return .admit
    }
}
