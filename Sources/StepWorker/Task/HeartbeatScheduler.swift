import Logging
import StepFunctions
import Synchronization

/// The heartbeats of every running task, from one timer: the earliest heartbeat due of all of
/// them (`HeartbeatTimetable`). A task registers when its handler starts and leaves when its
/// result is delivered; neither wakes a thread unless its heartbeat is due before every other
/// (the first task, or a shorter interval), or it is the last one (its timer is cancelled, so
/// an idle daemon holds none).
///
/// It replaces a child task per task that slept until its first heartbeat: with the default
/// 60 s interval nearly every task ends before that, so each one paid for a task, a timer set on
/// the event loop and cancelled from another thread, and their wake-ups, for nothing
/// (docs/benchmark.md, "3 December 2026, night").
///
/// When a heartbeat is due it is sent in a task of its own, so a slow answer holds up no other
/// task's. The service saying the task is gone stops its handler (`HandlerStopReason.taskGone`:
/// nothing is reported) and ends its heartbeats; throttling and other errors are logged and the
/// next heartbeat comes on schedule (the client has already retried, before the deadline).
final class HeartbeatScheduler: Sendable {
    /// What a task's heartbeats need.
    struct Beat: Sendable {
        var token: TaskToken
        var logger: Logger
        var handler: any RunningHandler
        var metrics: ActivityMetrics
    }

    /// The one timer: a task that sleeps until `until`, then calls `tick(generation)`. A timer
    /// replaced or cancelled still wakes (cancelled, at once), and its tick finds a newer
    /// generation and does nothing.
    private struct Timer {
        var task: Task<Void, Never>
        var until: Duration
    }

    private struct State {
        var table = HeartbeatTimetable<Beat>()
        var sending: [UInt64: Task<Void, Never>] = [:]
        var timer: Timer?
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    private let service: any ActivityService
    private let clock: any Clock<Duration>
    private let jitter: any JitterSource
    /// Time on `clock` since this scheduler was made.
    private let elapsed: @Sendable () -> Duration

    init(service: any ActivityService, clock: any Clock<Duration>, jitter: any JitterSource) {
        self.service = service
        self.clock = clock
        self.jitter = jitter
        self.elapsed = Self.stopwatch(clock)
    }

    private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }

    /// Starts a task's heartbeats, the first one `schedule`'s delay from now; returns the id that
    /// `stop` takes.
    func start(_ beat: Beat, every schedule: HeartbeatSchedule) -> UInt64 {
        let delay = schedule.delay(unitRandom: jitter.next())
        let now = elapsed()
        return state.withLock { state in
            let id = state.table.add(beat, schedule: schedule, now: now, delay: delay)
            arm(&state, due: now + delay, now: now)
            return id
        }
    }

    /// Ends a task's heartbeats; a heartbeat on its way is cancelled and its answer ignored.
    func stop(_ id: UInt64) {
        let sending = state.withLock { state in
            state.table.remove(id)
            if state.table.isEmpty, let timer = state.timer.take() {
                state.generation += 1
                timer.task.cancel()
            }
            return state.sending.removeValue(forKey: id)
        }
        sending?.cancel()
    }

    /// Sets the timer for `due` unless it is set for earlier already.
    private func arm(_ state: inout State, due: Duration, now: Duration) {
        if let timer = state.timer {
            guard due < timer.until else { return }
            timer.task.cancel()
        }
        state.generation += 1
        let generation = state.generation
        let clock = clock
        let delay = due - now
        state.timer = Timer(
            task: Task { [weak self] in
                try? await clock.sleep(for: delay)
                self?.tick(generation)
            },
            until: due)
    }

    /// The timer went off: sends what is due and sets the timer for the next.
    private func tick(_ generation: UInt64) {
        let now = elapsed()
        state.withLock { state in
            guard generation == state.generation else { return }
            state.timer = nil
            for send in state.table.takeDue(now: now) {
                state.sending[send.id] = Task { await self.send(send) }
            }
            if let next = state.table.earliestDue { arm(&state, due: next, now: now) }
        }
    }

    private enum Answer {
        case acknowledged
        case gone(code: String)
        case failed(any Error)
    }

    private func send(_ send: HeartbeatTimetable<Beat>.Send) async {
        let answer: Answer
        do {
            try await service.sendTaskHeartbeat(token: send.beat.token, within: send.within)
            answer = .acknowledged
        } catch is CancellationError {
            return  // stopped: the task ended
        } catch let error as StepFunctionsError where error.kind == .taskGone {
            answer = .gone(code: error.code)
        } catch {
            answer = .failed(error)
        }
        let unitRandom = jitter.next()
        let now = elapsed()
        let running = state.withLock { state -> Bool in
            // Not in `sending` any more: `stop` took it, the task ended while it was on its way.
            guard state.sending.removeValue(forKey: send.id) != nil, let entry = state.table.entries[send.id] else { return false }
            switch answer {
            case .gone:
                state.table.remove(send.id)
            case .acknowledged, .failed:
                let delay = entry.schedule.delay(unitRandom: unitRandom)
                let acknowledged = if case .acknowledged = answer { true } else { false }
                if let due = state.table.answered(send.id, acknowledged: acknowledged, now: now, delay: delay) {
                    arm(&state, due: due, now: now)
                }
            }
            return true
        }
        guard running else { return }  // the task ended while it was on its way
        let beat = send.beat
        switch answer {
        case .acknowledged:
            beat.metrics.heartbeat(.ok)
        case .gone(let code):
            beat.metrics.heartbeat(.gone)
            beat.logger.info("Heartbeat answered that the task is gone; stopping the handler if it still runs", metadata: ["error": "\(code)"])
            beat.handler.terminate(.taskGone)
        case .failed(let error):
            beat.metrics.heartbeat(.error)
            beat.logger.warning("Heartbeat failed", metadata: ["error": "\(error)"])
        }
    }
}
