/// One warm process slot's decisions, pure: events in (the process started, asked for `/next`,
/// answered, posted an init error, ended), what to do out. `WarmProcess` does the I/O around it.
/// Tested without processes, sockets or time (`WarmProcessStateTests`).
///
/// A slot is `idle` (no process: before the first start, or in backoff), `starting` (started,
/// not yet in `/next`), `waiting` (in `/next`: the only phase in which a poll may be opened for
/// it), `running` a task, `finishing` (answered, not yet back in `/next`), `initFailed`
/// (posted `/runtime/init/error`), or `stopping` (the daemon ended its group).
public struct WarmProcessState: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        case idle, starting, waiting, running, finishing, initFailed, stopping
    }

    /// Why the daemon ended a process, which decides what its task (if any) becomes and whether
    /// the replacement backs off.
    public enum KillReason: Sendable, Equatable {
        /// The task ran past `timeout`: `Handler.Timeout`; replaced at once.
        case timeout
        /// `terminate(reason)` on the task's handler (task gone, shutdown grace, cancelled).
        case stop(HandlerStopReason)
        /// `max_tasks_per_process` reached or the activity's launch settings changed; between
        /// tasks, replaced at once.
        case recycle
        /// The pool is going away (drain, reload, end of `stepworker invoke`): not replaced.
        case retire
        /// It posted an init error and did not exit by itself: replaced with backoff, as if it had.
        case initFailed
    }

    /// What becomes of the task a process held when it ended.
    public enum HeldTaskEnd: Sendable, Equatable {
        case timedOut
        case stopped(HandlerStopReason)
        /// It died by itself (or the daemon retired it) mid-task: `Handler.Crashed`.
        case crashed
    }

    public struct ExitDecision: Sendable, Equatable {
        /// The held task's end, if the process held one.
        public var heldTask: HeldTaskEnd?
        /// When to start the replacement; nil = none (retired).
        public var restartAfter: Duration?
        /// It ended by itself before it ever asked for a task (failed launch, init error, a
        /// runtime that exits at once): no process can run a task now.
        public var failedToStart = false

        public init(heldTask: HeldTaskEnd?, restartAfter: Duration?, failedToStart: Bool = false) {
            self.heldTask = heldTask
            self.restartAfter = restartAfter
            self.failedToStart = failedToStart
        }
    }

    public enum NextDecision: Sendable, Equatable {
        /// Wait in `/next` for a task; the slot is ready for a poll.
        case ready
        /// The process asked for `/next` while it held a task it never answered: that task
        /// fails (`Handler.Failed`), then the process waits as above.
        case failHeldThenReady
        /// Refused (403): the process posted an init error or is being stopped.
        case refuse
    }

    public enum AnswerDecision: Sendable, Equatable {
        /// Accepted; the process goes on to its next `/next`.
        case accepted
        /// Accepted, and the process is to be replaced now (`max_tasks_per_process`, changed
        /// settings) or stopped (retired).
        case acceptedThenKill(KillReason)
    }

    public private(set) var phase: Phase = .idle
    /// The request id of the task the process holds.
    public private(set) var held: String?
    /// Starts that failed in a row (crashes, init errors, launch failures), for the backoff.
    public private(set) var failures = 0
    public private(set) var tasksServed = 0
    public private(set) var killReason: KillReason?
    public var maxTasksPerProcess: Int?
    /// Set when the activity's launch settings changed: replace after the task in hand.
    public private(set) var recycleAfterTask = false
    /// Set when the slot is to go away after the task in hand (a reload shrank the pool).
    public private(set) var retireAfterTask = false

    public init(maxTasksPerProcess: Int? = nil) {
        self.maxTasksPerProcess = maxTasksPerProcess
    }

    /// The longest wait between two failed starts.
    public static let maxBackoff = Duration.seconds(30)

    /// 0 after a success, then 100 ms, 200 ms, 400 ms, … up to 30 s.
    public static func backoff(failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let exponent = min(failures - 1, 20)
        return min(.milliseconds(100 * (1 << exponent)), maxBackoff)
    }

    public var isAlive: Bool { phase != .idle }

    public mutating func processStarted() {
        phase = .starting
        held = nil
        tasksServed = 0
        killReason = nil
        recycleAfterTask = false
    }

    public mutating func nextRequested() -> NextDecision {
        switch phase {
        case .initFailed, .stopping, .idle:
            return .refuse
        case .running:
            held = nil
            phase = .waiting
            return .failHeldThenReady
        case .starting, .waiting, .finishing:
            phase = .waiting
            return .ready
        }
    }

    /// The `/next` connection of a waiting process went away before it got a task.
    public mutating func nextAbandoned() {
        if phase == .waiting { phase = .starting }
    }

    /// A task is handed to the process; false unless it waits in `/next`.
    public mutating func hand(requestID: String) -> Bool {
        guard phase == .waiting else { return false }
        phase = .running
        held = requestID
        return true
    }

    /// The process posted its response or error for the task it holds.
    public mutating func answered() -> AnswerDecision {
        held = nil
        tasksServed += 1
        failures = 0
        phase = .finishing
        if retireAfterTask { return kill(.retire) ? .acceptedThenKill(.retire) : .accepted }
        if recycleAfterTask || maxTasksPerProcess.map({ tasksServed >= $0 }) == true {
            return kill(.recycle) ? .acceptedThenKill(.recycle) : .accepted
        }
        return .accepted
    }

    public mutating func initErrorPosted() {
        if phase != .stopping { phase = .initFailed }
    }

    /// A while after an init error: a process that is still there (it did not exit as runtimes
    /// do) is ended, so the slot is retried. False when it is gone or already being ended.
    public mutating func initErrorGraceOver() -> Bool {
        guard phase == .initFailed else { return false }
        return kill(.initFailed)
    }

    /// The daemon ends the process; false when there is none, or it is being ended already (the
    /// first reason stands).
    public mutating func kill(_ reason: KillReason) -> Bool {
        guard phase != .idle, phase != .stopping else { return false }
        phase = .stopping
        killReason = reason
        return true
    }

    /// The launch settings changed: a process with no task is replaced now (true: kill it),
    /// one with a task after it.
    public mutating func settingsChanged() -> Bool {
        switch phase {
        case .running: recycleAfterTask = true; return false
        case .idle, .stopping: return false
        case .starting, .waiting, .finishing, .initFailed: return kill(.recycle)
        }
    }

    /// The slot is to go away: now when it holds no task (true: kill it), else after its task.
    public mutating func retire() -> Bool {
        if phase == .running {
            retireAfterTask = true
            return false
        }
        retireAfterTask = true
        if phase == .idle { return false }
        return kill(.retire)
    }

    /// Whether a new process may start (false once retired).
    public var mayRestart: Bool { !retireAfterTask }

    /// The process ended, however.
    public mutating func processExited() -> ExitDecision {
        let wasHolding = held != nil
        let reason = killReason
        let neverAsked = phase == .starting || phase == .initFailed || reason == .initFailed
        phase = .idle
        held = nil
        killReason = nil
        var heldTask: HeldTaskEnd?
        if wasHolding {
            switch reason {
            case .timeout: heldTask = .timedOut
            case .stop(let stop): heldTask = .stopped(stop)
            case .recycle, .retire, .initFailed, nil: heldTask = .crashed
            }
        }
        if retireAfterTask || reason == .retire { return ExitDecision(heldTask: heldTask, restartAfter: nil) }
        switch reason {
        case .timeout, .stop, .recycle:
            // The daemon ended it on purpose: the replacement starts at once.
            return ExitDecision(heldTask: heldTask, restartAfter: .zero)
        case .retire, .initFailed, nil:
            // It ended by itself: a crash, an init error, a failed launch, or a runtime that
            // simply exited. Each one in a row doubles the wait before the next start.
            failures += 1
            return ExitDecision(
                heldTask: heldTask, restartAfter: Self.backoff(failures: failures),
                failedToStart: neverAsked && (reason == nil || reason == .initFailed))
        }
    }
}
