import Systemd
import Testing

@Suite(.timeLimit(.minutes(1))) struct ServiceNotificationTests {
    @Test func eachNotificationIsOneAssignment() {
        #expect(ServiceNotification.ready.assignment == "READY=1")
        #expect(ServiceNotification.reloading.assignment == "RELOADING=1")
        #expect(ServiceNotification.stopping.assignment == "STOPPING=1")
        #expect(ServiceNotification.watchdog.assignment == "WATCHDOG=1")
        #expect(ServiceNotification.status("3 running; 4 activities").assignment == "STATUS=3 running; 4 activities")
        #expect(ServiceNotification.monotonicTime(microseconds: 12_345).assignment == "MONOTONIC_USEC=12345")
        #expect(ServiceNotification.mainPID(4242).assignment == "MAINPID=4242")
        #expect(ServiceNotification.extendTimeout(.seconds(90)).assignment == "EXTEND_TIMEOUT_USEC=90000000")
    }

    @Test func statusTextCannotInjectAnotherAssignment() {
        let message = ServiceNotification.message([.status("bad config\nREADY=1\r\nMAINPID=1")])
        #expect(message == "STATUS=bad config READY=1 MAINPID=1")
        #expect(!message.contains("\n"))
    }

    @Test func durationsBecomeWholeMicroseconds() {
        #expect(ServiceNotification.microseconds(.milliseconds(1_500)) == 1_500_000)
        #expect(ServiceNotification.microseconds(.nanoseconds(2_999)) == 2)
        #expect(ServiceNotification.microseconds(.zero) == 0)
        #expect(ServiceNotification.microseconds(.seconds(-5)) == 0)
        #expect(ServiceNotification.microseconds(.seconds(Int64.max)) == .max)
    }

    @Test func monotonicNowAdvances() async throws {
        let first = ServiceNotification.monotonicNowMicroseconds()
        try await Task.sleep(for: .milliseconds(20))
        let second = ServiceNotification.monotonicNowMicroseconds()
        #expect(second >= first + 20_000)
        #expect(second < first + 10_000_000)
    }

    @Test func helpersSendOneMessageEach() {
        let notifier = RecordingNotifier()
        notifier.ready(status: "idle")
        notifier.status("2 running")
        notifier.stopping()
        notifier.reloading()
        notifier.watchdogPing()
        notifier.extendTimeout(by: .seconds(30))
        notifier.mainPID(77)
        let history = notifier.history
        #expect(history.count == 7)
        #expect(history[0] == [.ready, .status("idle")])
        #expect(history[1] == [.status("2 running")])
        #expect(history[2] == [.stopping])
        #expect(history[3].count == 2)
        #expect(history[3].first == .reloading)
        guard case .monotonicTime(let reloadedAt) = history[3].last else {
            Issue.record("RELOADING=1 came without MONOTONIC_USEC: \(history[3])")
            return
        }
        let now = ServiceNotification.monotonicNowMicroseconds()
        #expect(reloadedAt <= now && now - reloadedAt < 5_000_000)
        #expect(history[4] == [.watchdog])
        #expect(history[5] == [.extendTimeout(.seconds(30))])
        #expect(history[6] == [.mainPID(77)])
        #expect(notifier.assignments.prefix(3) == ["READY=1", "STATUS=idle", "STATUS=2 running"])
    }

    @Test func recordingNotifierPublishesMessagesInOrder() async {
        let notifier = RecordingNotifier()
        let waiter = Task { await notifier.messages.first { $0.contains(.ready) } }
        notifier.status("starting")
        notifier.notify([])
        notifier.ready()
        #expect(await waiter.value == [.ready])
        notifier.stopping()
        notifier.finish()
        var rest: [[ServiceNotification]] = []
        for await message in notifier.messages { rest.append(message) }
        #expect(rest == [[.stopping]])
        #expect(notifier.history == [[.status("starting")], [.ready], [.stopping]])
    }
}
