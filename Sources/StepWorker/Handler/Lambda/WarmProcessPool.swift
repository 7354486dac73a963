import Logging
import Synchronization

/// The warm processes of one `protocol = "lambda"` activity (`concurrency` slots) and the
/// readiness the pollers wait on: a poll is opened only with a reservation, and there are never
/// more reservations (plus tasks waiting to be handed over) than processes waiting in `/next`,
/// so a task a poll brings starts at once. A process that dies while reserved is replaced; its
/// task waits for the replacement, and fails with `Handler.LaunchFailed` if no process can start.
final class WarmProcessPool: Sendable {
    private struct State {
        var slots: [WarmProcess] = []
        /// Every slot ever started, to wait for at retirement (shrunk ones included).
        var everySlot: [WarmProcess] = []
        /// Processes waiting in `/next` that have no task, in the order they got there.
        var ready: [WarmProcess] = []
        var reserved = 0
        var reservationWaiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        /// Tasks started and not yet handed to a process.
        var queue: [WarmTaskRun] = []
        var spec: WarmSpec
        var retired = false
        var nextID: UInt64 = 0

        var available: Int { ready.count - queue.count - reserved }
    }

    private let runner: any ProcessRunner
    private let logger: Logger
    private let state: Mutex<State>

    init(spec: WarmSpec, runner: any ProcessRunner, logger: Logger) {
        self.runner = runner
        self.logger = logger
        state = Mutex(State(spec: spec))
    }

    /// Applies the activity's current settings: `size` slots, launch settings (changed ones
    /// replace processes between tasks).
    func configure(_ spec: WarmSpec, size: Int) {
        let (added, surplus, updated): ([WarmProcess], [WarmProcess], [WarmProcess]) = state.withLock { state in
            guard !state.retired else { return ([], [], []) }
            let updated = state.spec == spec ? [] : state.slots
            state.spec = spec
            var added: [WarmProcess] = []
            while state.slots.count < size {
                let slot = WarmProcess(
                    index: state.everySlot.count, spec: spec, runner: runner, logger: logger, events: events)
                state.slots.append(slot)
                state.everySlot.append(slot)
                added.append(slot)
            }
            var surplus: [WarmProcess] = []
            while state.slots.count > size {
                let slot = state.slots.removeLast()
                state.ready.removeAll { $0 === slot }
                surplus.append(slot)
            }
            return (added, surplus, updated)
        }
        for slot in updated { slot.update(spec) }
        for slot in added { slot.begin() }
        for slot in surplus { Task { await slot.retire() } }
    }

    var slotCount: Int { state.withLock { $0.slots.count } }

    /// Waits for a process in `/next` and holds it for one poll; nil once `drain` began.
    func reserve(until drain: DrainSignal) async -> HandlerReservation? {
        enum Outcome { case reserved(Bool), drained }
        let reserved = await withTaskGroup(of: Outcome.self) { group in
            group.addTask { .reserved(await self.waitForReservation()) }
            group.addTask {
                await drain.wait()
                return .drained
            }
            var got = false
            for await outcome in group {
                if case .reserved(let value) = outcome { got = value }
                group.cancelAll()
            }
            return got
        }
        guard reserved else { return nil }
        if drain.isDraining {
            release()
            return nil
        }
        return HandlerReservation { [self] in release() }
    }

    private func waitForReservation() async -> Bool {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Bool? = state.withLock { state in
                    if state.retired || Task.isCancelled { return false }
                    if state.available > 0, state.reservationWaiters.isEmpty {
                        state.reserved += 1
                        return true
                    }
                    state.reservationWaiters.append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.reservationWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.reservationWaiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
    }

    private func release() {
        state.withLock { $0.reserved = max(0, $0.reserved - 1) }
        dispatch()
    }

    /// A task for this activity: handed to the first process in `/next` (using up a reservation
    /// when the task came from a poll).
    func start(_ invocation: HandlerInvocation) -> any RunningHandler {
        let task = WarmTaskRun(invocation: invocation, requestID: invocation.taskID ?? "invoke") { [weak self] task in
            self?.state.withLock { $0.queue.removeAll { $0 === task } }
        }
        let refused = state.withLock { state in
            guard !state.retired else { return true }
            state.reserved = max(0, state.reserved - 1)
            state.queue.append(task)
            return false
        }
        if refused {
            task.finish(.stopped(.cancelled))
        } else {
            dispatch()
        }
        return task
    }

    /// Stops every process and waits for them; later reservations and tasks are refused.
    func retire() async {
        let (slots, waiters, queued) = state.withLock { state in
            state.retired = true
            defer {
                state.reservationWaiters = []
                state.queue = []
                state.ready = []
            }
            return (state.everySlot, state.reservationWaiters.map(\.continuation), state.queue)
        }
        for waiter in waiters { waiter.resume(returning: false) }
        for task in queued { task.finish(.stopped(.cancelled)) }
        await withDiscardingTaskGroup { group in
            for slot in slots { group.addTask { await slot.retire(now: true) } }
        }
    }

    private var events: WarmProcess.Events {
        WarmProcess.Events(
            ready: { [weak self] slot in self?.processReady(slot) },
            unready: { [weak self] slot in self?.processUnready(slot) },
            failedToStart: { [weak self] slot, reason in self?.processFailedToStart(slot, reason: reason) })
    }

    private func processReady(_ slot: WarmProcess) {
        state.withLock { state in
            guard !state.retired, state.slots.contains(where: { $0 === slot }), !state.ready.contains(where: { $0 === slot })
            else { return }
            state.ready.append(slot)
        }
        dispatch()
    }

    private func processUnready(_ slot: WarmProcess) {
        state.withLock { $0.ready.removeAll { $0 === slot } }
    }

    /// No process can take a task now: a task already waiting for one fails rather than wait
    /// for a start that may never succeed (polls stay closed meanwhile, so no new task comes).
    private func processFailedToStart(_ slot: WarmProcess, reason: String) {
        let task: WarmTaskRun? = state.withLock { state in
            guard state.ready.isEmpty, !state.queue.isEmpty else { return nil }
            return state.queue.removeFirst()
        }
        task?.finish(.launchFailed(reason))
    }

    /// Pairs waiting tasks with ready processes, then admits reservations for what is left.
    private func dispatch() {
        while true {
            let pair: (WarmTaskRun, WarmProcess)? = state.withLock { state in
                guard !state.queue.isEmpty, !state.ready.isEmpty else { return nil }
                return (state.queue.removeFirst(), state.ready.removeFirst())
            }
            guard let (task, slot) = pair else { break }
            switch slot.hand(task) {
            case .handed:
                continue
            case .taskStopped:
                state.withLock { $0.ready.insert(slot, at: 0) }
            case .notWaiting:
                state.withLock { $0.queue.insert(task, at: 0) }
            }
        }
        let admitted: [CheckedContinuation<Bool, Never>] = state.withLock { state in
            var admitted: [CheckedContinuation<Bool, Never>] = []
            while state.available > 0, !state.reservationWaiters.isEmpty {
                state.reserved += 1
                admitted.append(state.reservationWaiters.removeFirst().continuation)
            }
            return admitted
        }
        for waiter in admitted { waiter.resume(returning: true) }
    }
}
