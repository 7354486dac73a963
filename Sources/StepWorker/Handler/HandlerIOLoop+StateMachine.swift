#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The I/O loop's decisions over time, apart from the clock and the system calls: when to end a
/// handler's group, when to kill it, and how long to go on draining its pipes once the leader is
/// gone. Times are monotonic milliseconds, always passed in.
///
/// - A stop request or the timeout, whichever comes first and only while the leader runs, begins
///   termination: SIGTERM and SIGCONT to the group (a stopped handler must wake to see the TERM),
///   SIGKILL `killGrace` later. The first reason is the one reported.
/// - When the leader exits, SIGKILL to the group (whatever it left behind dies with it), then the
///   pipes are drained for `drainGrace` at most: a background process holding them open must not
///   keep the worker waiting.
struct HandlerDeadlines: Sendable, Equatable {
    enum Event: Sendable, Equatable {
        /// The loop woke (an event or a deadline) at `now`.
        case tick(now: Int64)
        /// The worker asked the handler to stop; also a tick.
        case stopRequested(HandlerStopReason, now: Int64)
        /// The leader exited (pidfd readable, or found a zombie).
        case leaderExited(now: Int64)
    }

    enum Action: Sendable, Equatable {
        /// killpg(2) with this signal.
        case signalGroup(Int32)
        /// The drain deadline passed: return with what was read.
        case stopWaiting
    }

    /// Why the worker ended the group, if it did.
    private(set) var endedBy: HandlerEndReason?
    private(set) var leaderExited = false
    private let timeoutAt: Int64?
    private let killGrace: Int64
    private let drainGrace: Int64
    /// Without a pidfd nothing wakes the loop when the leader exits: it looks every 20 ms.
    private let pollsForLeaderExit: Bool
    private var killAt: Int64?
    private var killed = false
    private var drainUntil: Int64?

    /// How often the loop looks for the leader's exit when it has no pidfd to poll.
    static let leaderRecheckInterval: Int64 = 20

    init(startedAt: Int64, timeout: Int64?, killGrace: Int64, drainGrace: Int64, pollsForLeaderExit: Bool) {
        self.timeoutAt = timeout.map { startedAt + $0 }
        self.killGrace = killGrace
        self.drainGrace = drainGrace
        self.pollsForLeaderExit = pollsForLeaderExit
    }

    /// Whether a stop request would still begin termination (the loop asks for one only then).
    var acceptsStopRequest: Bool { endedBy == nil && !leaderExited }

    mutating func event(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .tick(let now):
            advance(to: now, &actions)
        case .stopRequested(let reason, let now):
            if acceptsStopRequest { beginTermination(.stopRequested(reason), now: now, &actions) }
            advance(to: now, &actions)
        case .leaderExited(let now):
            guard !leaderExited else { break }
            leaderExited = true
            actions.append(.signalGroup(SIGKILL))
            killed = true
            drainUntil = now + drainGrace
        }
        return actions
    }

    /// poll(2)'s timeout at `now`: until the nearest pending deadline, or -1 (wait for an event).
    func pollTimeout(now: Int64) -> Int32 {
        var deadlines: [Int64] = []
        if endedBy == nil, !leaderExited, let timeoutAt { deadlines.append(timeoutAt) }
        if !killed, let killAt { deadlines.append(killAt) }
        if let drainUntil { deadlines.append(drainUntil) }
        if pollsForLeaderExit, !leaderExited { deadlines.append(now + Self.leaderRecheckInterval) }
        return deadlines.min().map { Int32(clamping: max(0, $0 - now)) } ?? -1
    }

    private mutating func advance(to now: Int64, _ actions: inout [Action]) {
        if acceptsStopRequest, let timeoutAt, now >= timeoutAt {
            beginTermination(.timeout, now: now, &actions)
        }
        if let killAt, !killed, now >= killAt {
            actions.append(.signalGroup(SIGKILL))
            killed = true
        }
        if let drainUntil, now >= drainUntil { actions.append(.stopWaiting) }
    }

    private mutating func beginTermination(_ reason: HandlerEndReason, now: Int64, _ actions: inout [Action]) {
        endedBy = reason
        actions += [.signalGroup(SIGTERM), .signalGroup(SIGCONT)]
        killAt = now + killGrace
    }
}
