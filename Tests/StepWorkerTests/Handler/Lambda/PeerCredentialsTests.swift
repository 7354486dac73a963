import StepWorker
import Testing

/// The owner of a loopback connection's client end, from `/proc/net/tcp` text.
struct PeerCredentialsTests {
    // A listener on 127.0.0.1:40000 (uid 0), its accepted socket, and two clients: one of uid
    // 1000 from port 51000, one of uid 65534 from port 52000.
    static let table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:9C40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
           1: 0100007F:C738 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 1002 1 0000000000000000 20 4 30 10 -1
           2: 0100007F:9C40 0100007F:C738 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
           3: 0100007F:CB20 0100007F:9C40 01 00000000:00000000 00:00000000 00000000 65534        0 1004 1 0000000000000000 20 4 30 10 -1
        """

    @Test func findsTheClientEndsOwner() {
        #expect(PeerCredentials.owner(peerPort: 51000, serverPort: 40000, table: Self.table) == 1000)
        #expect(PeerCredentials.owner(peerPort: 52000, serverPort: 40000, table: Self.table) == 65534)
    }

    @Test func anUnlistedConnectionHasNoOwner() {
        #expect(PeerCredentials.owner(peerPort: 53000, serverPort: 40000, table: Self.table) == nil)
        // The listening socket (remote port 0) is no one's peer.
        #expect(PeerCredentials.owner(peerPort: 40000, serverPort: 0, table: Self.table) == nil)
        #expect(PeerCredentials.owner(peerPort: 51000, serverPort: 40000, table: "") == nil)
    }
}
