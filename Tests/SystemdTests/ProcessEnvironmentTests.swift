import Glibc
import Systemd
import Testing

/// Tests that set NOTIFY_SOCKET, WATCHDOG_USEC or WATCHDOG_PID: the environment is one per
/// process, so every suite that touches it is nested here and they all run one at a time.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ProcessEnvironmentTests {}

extension ProcessEnvironmentTests {
    @Suite struct NotifySocketTests {
        let directory: TemporaryDirectory

        init() throws {
            directory = try TemporaryDirectory()
        }

        @Test func everyHelperReachesAPathSocket() async throws {
            defer { directory.remove() }
            let socket = try DatagramSocket(path: directory.file("notify"))
            let notifier = SystemdNotifier()
            try await withEnvironment(["NOTIFY_SOCKET": socket.notifySocket]) {
                notifier.ready(status: "1 activity")
                #expect(await socket.receive(timeout: .seconds(5)) == "READY=1\nSTATUS=1 activity")
                notifier.status("3 running, 1204 succeeded, 3 failed; 4 activities")
                #expect(await socket.receive(timeout: .seconds(5)) == "STATUS=3 running, 1204 succeeded, 3 failed; 4 activities")
                notifier.stopping()
                #expect(await socket.receive(timeout: .seconds(5)) == "STOPPING=1")
                notifier.extendTimeout(by: .seconds(90))
                #expect(await socket.receive(timeout: .seconds(5)) == "EXTEND_TIMEOUT_USEC=90000000")
                notifier.watchdogPing()
                #expect(await socket.receive(timeout: .seconds(5)) == "WATCHDOG=1")
                notifier.mainPID(getpid())
                #expect(await socket.receive(timeout: .seconds(5)) == "MAINPID=\(getpid())")

                let before = ServiceNotification.monotonicNowMicroseconds()
                notifier.reloading()
                let after = ServiceNotification.monotonicNowMicroseconds()
                let reload = try #require(await socket.receive(timeout: .seconds(5)))
                let lines = reload.split(separator: "\n").map(String.init)
                #expect(lines.count == 2)
                #expect(lines.first == "RELOADING=1")
                let stamp = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
                #expect(stamp >= before && stamp <= after)
            }
        }

        /// sd_notify blocks while the receiver's queue is full; the daemon's calls must not, and
        /// the wait before exit is bounded.
        @Test func aReceiverThatDoesNotReadBlocksNobody() async throws {
            defer { directory.remove() }
            let socket = try DatagramSocket(path: directory.file("notify"))
            let notifier = SystemdNotifier()
            await withEnvironment(["NOTIFY_SOCKET": socket.notifySocket]) {
                let clock = ContinuousClock()
                let sending = clock.measure {
                    for n in 0..<200 { notifier.status("status \(n)") }  // far beyond the queue's 10 datagrams
                }
                #expect(sending < .seconds(1))
                let flushing = await clock.measure { await notifier.flush(timeout: .milliseconds(300)) }
                #expect(flushing >= .milliseconds(250) && flushing < .seconds(5))
                // Once the receiver reads, everything arrives, in order.
                var received: [String] = []
                while received.count < 200, let message = await socket.receive(timeout: .seconds(5)) { received.append(message) }
                #expect(received == (0..<200).map { "STATUS=status \($0)" })
                await notifier.flush(timeout: .seconds(5))
            }
        }

        @Test func anAbstractSocketWorksToo() async throws {
            defer { directory.remove() }
            let name = "stepworker-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let socket = try DatagramSocket(abstractName: name)
            #expect(socket.notifySocket.hasPrefix("@"))
            await withEnvironment(["NOTIFY_SOCKET": socket.notifySocket]) {
                #expect(SystemdNotifier().send([.ready]) == .sent)
                #expect(await socket.receive(timeout: .seconds(5)) == "READY=1")
            }
        }

        @Test func withoutNotifySocketNothingIsSent() async throws {
            defer { directory.remove() }
            let socket = try DatagramSocket(path: directory.file("notify"))
            await withEnvironment(["NOTIFY_SOCKET": nil]) {
                #expect(SystemdNotifier().send([.ready]) == .noServiceManager)
                SystemdNotifier().stopping()
            }
            #expect(await socket.receive(timeout: .milliseconds(200)) == nil)
        }

        @Test func aVanishedSocketIsReportedNotThrown() async throws {
            defer { directory.remove() }
            await withEnvironment(["NOTIFY_SOCKET": directory.file("nobody-listens")]) {
                let delivery = SystemdNotifier().send([.watchdog])
                #expect(delivery == .failed(errno: ENOENT))
            }
        }
    }
}
