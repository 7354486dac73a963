@testable import StepWorker
import Testing

/// Who may use a warm process's Runtime API listener, decided with no socket or lookup.
struct RuntimeAPIAdmissionTests {
    typealias Socket = PeerCredentials.PeerSocket

    static func admission(allowed: UInt32 = 1000, overflow: UInt32? = nil, running: Bool = true) -> RuntimeAPIAdmission {
        var admission = RuntimeAPIAdmission(allowedUID: allowed, overflowUID: overflow)
        admission.processRunning(running)
        return admission
    }

    @Test func noLookupIsWorthMakingWhileNoProcessRuns() {
        var admission = Self.admission(running: false)
        #expect(admission.precheck() == .notExpecting)
        #expect(admission.judge(.found(Socket(state: 1, uid: 1000, inode: 7))) == .refuse(.notExpecting))
        admission.processRunning(true)
        #expect(admission.precheck() == nil)
        admission.processRunning(false)
        #expect(admission.precheck() == .notExpecting)
    }

    @Test func theHandlersUsersConnectedSocketIsAdmitted() {
        #expect(Self.admission().judge(.found(Socket(state: 1, uid: 1000, inode: 7))) == .admit)
    }

    @Test func anotherUsersSocketIsRefused() {
        #expect(Self.admission().judge(.found(Socket(state: 1, uid: 0, inode: 7))) == .refuse(.otherUser(0)))
        #expect(Self.admission(allowed: 0).judge(.found(Socket(state: 1, uid: 65534, inode: 7))) == .refuse(.otherUser(65534)))
    }

    /// A peer that closed at once leaves a time-wait socket, which reports uid 0 and no inode:
    /// for a root handler that must not read as "root's socket".
    @Test func aSocketNoProcessHoldsIsRefusedWhateverUidItReports() {
        let admission = Self.admission(allowed: 0)
        #expect(admission.judge(.found(Socket(state: 6, uid: 0, inode: 0))) == .refuse(.notConnected(state: 6)))
        #expect(admission.judge(.found(Socket(state: 1, uid: 0, inode: 0))) == .refuse(.notConnected(state: 1)))
        #expect(admission.judge(.found(Socket(state: 8, uid: 0, inode: 9))) == .refuse(.notConnected(state: 8)))
    }

    @Test func aLookupThatFoundNothingOrFailedIsARefusal() {
        let admission = Self.admission()
        #expect(admission.judge(.notFound) == .refuse(.lookupFailed(.notFound)))
        #expect(admission.judge(.failed(1)) == .refuse(.lookupFailed(.failed(1))))
    }

    /// In a user namespace that does not map every uid, unmapped users read as the overflow uid:
    /// a handler running as that uid cannot be told from them, so it is never admitted as such.
    @Test func theOverflowUidIsRefusedWhereItCanStandForAnyone() {
        let partial = Self.admission(allowed: 65534, overflow: 65534)
        #expect(partial.judge(.found(Socket(state: 1, uid: 65534, inode: 7))) == .refuse(.otherUser(65534)))
        let whole = Self.admission(allowed: 65534, overflow: nil)
        #expect(whole.judge(.found(Socket(state: 1, uid: 65534, inode: 7))) == .admit)
    }

    @Test func theOverflowUidMattersOnlyInANamespaceThatDoesNotMapEveryUid() {
        #expect(PeerCredentials.overflowUIDIfPartial(uidMap: "         0          0 4294967295\n", overflow: "65534\n") == nil)
        #expect(PeerCredentials.overflowUIDIfPartial(uidMap: "0 1000 1\n999 999 1\n", overflow: "65534\n") == 65534)
        #expect(PeerCredentials.overflowUIDIfPartial(uidMap: "0 100000 65536\n", overflow: "4000\n") == 4000)
        #expect(PeerCredentials.overflowUIDIfPartial(uidMap: nil, overflow: nil) == 65534)
    }

    @Test func endpointsAreIPv4Only() {
        #expect(PeerCredentials.Endpoint(ipv4: "127.0.0.1", port: 9000) == PeerCredentials.Endpoint(address: 0x7F00_0001, port: 9000))
        #expect(PeerCredentials.Endpoint(ipv4: "::1", port: 9000) == nil)
        #expect(PeerCredentials.Endpoint(ipv4: "127.0.0.1", port: 70000) == nil)
        #expect(PeerCredentials.Endpoint(ipv4: "127.0.0", port: 1) == nil)
    }
}
