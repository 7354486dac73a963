import Glibc
import Logging
import Synchronization
import Systemd
import Testing

@Suite(.timeLimit(.minutes(1))) struct WatchdogStateMachineTests {
    @Test func pingsWhileHealthy() {
        var machine = WatchdogStateMachine()
        #expect(machine.checked(.healthy) == .ping)
        #expect(machine.checked(.healthy) == .ping)
    }

    @Test func reportsAFailureOnceThenStaysQuiet() {
        var machine = WatchdogStateMachine()
        #expect(machine.checked(.unhealthy("pollers stalled")) == .withholdAndReport(reason: "pollers stalled"))
        #expect(machine.checked(.unhealthy("pollers stalled")) == .withhold)
        #expect(machine.checked(.unhealthy("pollers stalled")) == .withhold)
        #expect(machine.checked(.unhealthy("event loop blocked")) == .withholdAndReport(reason: "event loop blocked"))
        #expect(machine.checked(WatchdogHealth(isHealthy: false)) == .withholdAndReport(reason: "health check failed"))
    }

    @Test func reportsRecoveryWithTheNumberOfMissedPings() {
        var machine = WatchdogStateMachine()
        #expect(machine.checked(.healthy) == .ping)
        _ = machine.checked(.unhealthy("stalled"))
        _ = machine.checked(.unhealthy("stalled"))
        #expect(machine.checked(.healthy) == .pingAfterRecovery(missedPings: 2))
        #expect(machine.checked(.healthy) == .ping)
        #expect(machine.checked(.unhealthy("stalled")) == .withholdAndReport(reason: "stalled"))
    }

    @Test func pingsAtHalfTheTimeout() {
        #expect(WatchdogStateMachine.pingInterval(forTimeout: .seconds(30)) == .seconds(15))
        #expect(WatchdogStateMachine.pingInterval(forTimeout: .microseconds(200_000)) == .milliseconds(100))
    }

    @Test func anAbsentOrZeroTimeoutMeansOff() async {
        let notifier = RecordingNotifier()
        for timeout in [nil, Duration.zero] {
            let watchdog = Watchdog(timeout: timeout, notifier: notifier, clock: ContinuousClock(), logger: quietLogger) { true }
            #expect(watchdog.pingInterval == nil)
            await watchdog.run()  // returns at once
        }
        #expect(notifier.history.isEmpty)
    }

    @Test func stopsWhenCancelled() async {
        let notifier = RecordingNotifier()
        let watchdog = Watchdog(timeout: .seconds(3600), notifier: notifier, clock: ContinuousClock(), logger: quietLogger) { true }
        let running = Task { await watchdog.run() }
        _ = await notifier.messages.first { $0 == [.watchdog] }  // the first ping comes at once
        let elapsed = await ContinuousClock().measure {
            running.cancel()
            await running.value
        }
        #expect(elapsed < .seconds(5))
        #expect(notifier.history == [[.watchdog]])
    }
}

extension ProcessEnvironmentTests {
    @Suite struct WatchdogPingTests {
        @Test func readsTheTimeoutOnlyForThisProcess() async {
            await withEnvironment(["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getpid())"]) {
                #expect(Watchdog<ContinuousClock>.timeoutFromEnvironment() == .milliseconds(200))
            }
            await withEnvironment(["WATCHDOG_USEC": "200000", "WATCHDOG_PID": nil]) {
                #expect(Watchdog<ContinuousClock>.timeoutFromEnvironment() == .milliseconds(200))
            }
            await withEnvironment(["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getppid())"]) {
                #expect(Watchdog<ContinuousClock>.timeoutFromEnvironment() == nil)
            }
            await withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
                #expect(Watchdog<ContinuousClock>.timeoutFromEnvironment() == nil)
            }
        }

        @Test func pingsAtHalfTheTimeoutOnlyWhileHealthy() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let socket = try DatagramSocket(path: directory.file("notify"))
            let healthy = HealthSwitch()
            let environment = ["NOTIFY_SOCKET": socket.notifySocket, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getpid())"]
            try await withEnvironment(environment) {
                let notifier = SystemdNotifier()
                let watchdog = Watchdog(notifier: notifier, logger: quietLogger) {
                    healthy.isOn ? .healthy : .unhealthy("test says no")
                }
                #expect(watchdog.pingInterval == .milliseconds(100))
                let running = Task { await watchdog.run() }
                defer { running.cancel() }

                // About 10 pings a second; the window is loose for a busy machine.
                let pings = await socket.receiveAll(for: .seconds(1))
                #expect(pings.allSatisfy { $0 == "WATCHDOG=1" })
                #expect((5...13).contains(pings.count), "\(pings.count) pings in 1 s")

                healthy.isOn = false
                _ = await socket.receiveAll(for: .milliseconds(150))  // a check already past may still ping
                let whileFailing = await socket.receiveAll(for: .milliseconds(600))
                #expect(whileFailing.isEmpty, "\(whileFailing.count) pings while unhealthy")

                healthy.isOn = true
                let resumed = try #require(await socket.receive(timeout: .seconds(2)))
                #expect(resumed == "WATCHDOG=1")
                let afterRecovery = await socket.receiveAll(for: .milliseconds(500))
                #expect((2...7).contains(afterRecovery.count), "\(afterRecovery.count) pings in 0.5 s")

                running.cancel()
                await running.value
                // The notifier sends from its own queue: a ping made before the cancellation
                // can still be on its way.
                await notifier.flush(timeout: .seconds(5))
                socket.drain()
                let late = await socket.receive(timeout: .milliseconds(300))
                #expect(late == nil, "pinged after cancellation: \(late ?? "")")
            }
        }

        @Test func doesNothingWhenTheWatchdogIsForAnotherProcess() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let socket = try DatagramSocket(path: directory.file("notify"))
            let environment = ["NOTIFY_SOCKET": socket.notifySocket, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getppid())"]
            await withEnvironment(environment) {
                let watchdog = Watchdog(notifier: SystemdNotifier(), logger: quietLogger) { .healthy }
                #expect(watchdog.pingInterval == nil)
                await watchdog.run()
            }
            #expect(await socket.receive(timeout: .milliseconds(300)) == nil)
        }
    }
}

/// A health check's answer that a test flips while the watchdog runs.
final class HealthSwitch: Sendable {
    private let state = Mutex(true)

    var isOn: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

/// The watchdog logs failures and recoveries; the tests check pings, not those lines.
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
