#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging
import NIOHTTP1
import POSIXSupport
import Synchronization

/// One warm slot of an activity: its Runtime API listener, the process it runs (started through
/// the stdio `ProcessRunner`, so in its own session with the clean environment and identity,
/// stderr to the journal), and the task that process holds. Decisions are `WarmProcessState`'s;
/// this type does the I/O: it answers `/next` with a task the pool hands over, turns
/// `/response` and `/error` into the task's result, kills the group on timeout or stop, and
/// starts a replacement (with backoff when the process failed by itself).
final class WarmProcess: Sendable {
    /// What the pool learns from a slot.
    struct Events: Sendable {
        var ready: @Sendable (WarmProcess) -> Void
        var unready: @Sendable (WarmProcess) -> Void
        /// The process could not start (init error, launch failure): the reason.
        var failedToStart: @Sendable (WarmProcess, String) -> Void
    }

    enum HandOutcome { case handed, notWaiting, taskStopped }

    struct Inner {
        var machine: WarmProcessState
        var spec: WarmSpec
        var nextWaiter: CheckedContinuation<RuntimeAPIServer.Response, Never>?
        var current: WarmTaskRun?
        var process: (any RunningHandler)?
        var timer: Task<Void, Never>?
        var server: RuntimeAPIServer?
        /// Counts the processes this slot started; each has a listener of its own, and a request
        /// that reaches the slot from an earlier one (still in flight when it was replaced) is
        /// refused rather than taken for the current process's.
        var generation = 0
    }

    let index: Int
    private let runner: any ProcessRunner
    let events: Events
    let logger: Logger
    let logContext = WarmLogHandler.Context()
    /// The stderr rate limit of the slot's process: a new budget per process and per task handed
    /// over, whose dropped count goes to that task's result.
    let stderrGate = StderrLineGate()
    let inner: Mutex<Inner>
    private let loop = Mutex<Task<Void, Never>?>(nil)

    init(index: Int, spec: WarmSpec, runner: any ProcessRunner, logger: Logger, events: Events) {
        self.index = index
        self.runner = runner
        self.events = events
        var logger = logger
        logger[metadataKey: "STEPWORKER_TASK_ID"] = nil
        logger[metadataKey: "warm_slot"] = "\(index)"
        self.logger = logger
        inner = Mutex(Inner(machine: WarmProcessState(maxTasksPerProcess: spec.maxTasksPerProcess), spec: spec))
    }

    /// Starts the slot's life: the listener, then processes until retired.
    func begin() {
        let task = Task { await self.live() }
        loop.withLock { $0 = task }
    }

    /// Ends the slot: a process with no task at once, one with a task after it. Returns when the
    /// process is gone and the listener closed.
    func retire(now: Bool = false) async {
        let process: (any RunningHandler)? = inner.withLock { inner in
            let killNow = inner.machine.retire()
            if now, !killNow, inner.machine.phase == .running, inner.machine.kill(.retire) { return inner.process }
            return killNow ? inner.process : nil
        }
        process?.terminate(.cancelled)
        let task = loop.withLock { $0 }
        task?.cancel()  // wakes a backoff sleep; a running process is waited for
        await task?.value
    }

    /// The activity's launch settings changed: replace the process between tasks.
    func update(_ spec: WarmSpec) {
        let process: (any RunningHandler)? = inner.withLock { inner in
            guard inner.spec != spec else { return nil }
            inner.spec = spec
            inner.machine.maxTasksPerProcess = spec.maxTasksPerProcess
            return inner.machine.settingsChanged() ? inner.process : nil
        }
        process?.terminate(.cancelled)
    }

    /// Ends the process for `reason`; with `holding`, only if it still holds that task.
    func kill(_ reason: WarmProcessState.KillReason, holding task: WarmTaskRun? = nil) {
        let process: (any RunningHandler)? = inner.withLock { inner in
            if let task, inner.current !== task { return nil }
            return inner.machine.kill(reason) ? inner.process : nil
        }
        process?.terminate(.cancelled)
    }

    /// Gives `task` to the process waiting in `/next`.
    func hand(_ task: WarmTaskRun) -> HandOutcome {
        enum Step { case handed(CheckedContinuation<RuntimeAPIServer.Response, Never>), notWaiting, taskStopped }
        let step: Step = inner.withLock { inner in
            guard inner.machine.phase == .waiting, let waiter = inner.nextWaiter else { return .notWaiting }
            guard task.attach(to: self) else { return .taskStopped }
            _ = inner.machine.hand(requestID: task.requestID)
            inner.nextWaiter = nil
            inner.current = task
            return .handed(waiter)
        }
        let waiter: CheckedContinuation<RuntimeAPIServer.Response, Never>
        switch step {
        case .handed(let continuation): waiter = continuation
        case .notWaiting: return .notWaiting
        case .taskStopped: return .taskStopped
        }
        stderrGate.restart()
        logContext.set(["STEPWORKER_TASK_ID": "\(task.requestID)"])
        if let limit = task.invocation.timeout {
            let timer = Task {
                // EventLoopClock: a cancelled timer (the task ended first) is freed now, not at `limit`.
                guard (try? await EventLoopClock().sleep(for: limit)) != nil else { return }
                self.kill(.timeout, holding: task)
            }
            inner.withLock { $0.timer = timer }
        }
        waiter.resume(returning: Self.invocationResponse(task))
        return .handed
    }

    // MARK: - The process's life

    private func live() async {
        let maxBody = inner.withLock { $0.spec.maxOutput }
        var processLogger = Logger(label: logger.label) { [logger, logContext] _ in
            WarmLogHandler(inner: logger.handler, context: logContext)
        }
        processLogger.logLevel = logger.logLevel
        while let spec = inner.withLock({ $0.machine.mayRestart ? $0.spec : nil }) {
            // A listener per process: the port in its AWS_LAMBDA_RUNTIME_API is closed once it
            // is gone, and requests it left in flight are refused by generation.
            let generation = inner.withLock { inner in
                inner.generation += 1
                return inner.generation
            }
            let server: RuntimeAPIServer
            do {
                server = try await RuntimeAPIServer.start(
                    maxBodyBytes: max(maxBody, 64 << 10), allowedUID: spec.identity?.userID ?? getuid(), logger: logger,
                    handler: { [self] request in await self.handle(request, generation: generation) })
            } catch {
                logger.error("Cannot open the Runtime API listener of a warm process", metadata: ["error": "\(error)"])
                events.failedToStart(self, "cannot open the Runtime API listener: \(error)")
                return
            }
            inner.withLock { $0.server = server }
            server.processRunning(true)  // its first connect may come before `start` returns
            stderrGate.restart()
            let handler = runner.start(spec.invocation(port: server.port, logger: processLogger, stderrGate: stderrGate))
            let retiredMeanwhile = inner.withLock { inner in
                inner.machine.processStarted()
                inner.process = handler
                return !inner.machine.mayRestart && inner.machine.kill(.retire)
            }
            if retiredMeanwhile { handler.terminate(.cancelled) }
            logger.debug("Warm process started", metadata: ["port": "\(server.port)"])
            let result = await handler.result()
            server.processRunning(false)
            let delay = ended(result)
            await server.shutdown()
            guard let delay else { break }
            if delay > .zero {
                logger.notice("Restarting a warm process after backoff", metadata: ["delay_ms": "\(delay.milliseconds)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// The process is gone: settle the task it held, tell the pool, and say when to restart.
    private func ended(_ result: HandlerRunResult) -> Duration? {
        let (decision, waiter, task, timer) = inner.withLock { inner in
            let decision = inner.machine.processExited()
            defer {
                inner.nextWaiter = nil
                inner.current = nil
                inner.timer = nil
                inner.process = nil
            }
            return (decision, inner.nextWaiter, inner.current, inner.timer)
        }
        timer?.cancel()
        logContext.set([:])
        events.unready(self)
        waiter?.resume(returning: .json(500, RuntimeAPIRouter.Refusal(
            status: 500, errorType: "Runtime.Exited", message: "the process is gone").body))
        if let task, let end = decision.heldTask {
            let termination: HandlerTermination
            switch end {
            case .timedOut: termination = .timedOut(limit: task.invocation.timeout ?? .zero)
            case .stopped(let reason): termination = .stopped(reason)
            case .crashed: termination = .crashed(result.termination)
            }
            task.finish(termination, stderrTail: result.stderrTail, processID: result.processID)
        }
        if case .launchFailed(let reason) = result.termination {
            logger.error("A warm process could not start", metadata: ["error": "\(reason)"])
            events.failedToStart(self, reason)
        } else if decision.failedToStart {
            logger.error("A warm process ended before it asked for a task", metadata: [
                "termination": "\(result.termination)",
            ])
            events.failedToStart(self, TaskFate.withStderr(
                "the runtime ended (\(result.termination)) before it asked for a task", result.stderrTail))
        } else if decision.restartAfter != .zero, decision.restartAfter != nil {
            logger.warning("A warm process ended by itself", metadata: [
                "termination": "\(result.termination)", "held_task": "\(task != nil)",
            ])
        }
        return decision.restartAfter
    }
}
