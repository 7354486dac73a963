import StepWorker
import Testing

/// A warm slot's decisions, event by event, with no process, socket or clock.
struct WarmProcessStateTests {
    @Test func aPollMayOpenOnlyWhileTheProcessWaitsInNext() {
        var state = WarmProcessState()
        let r1 = state.hand(requestID: "a")
        #expect(!r1)  // no process
        state.processStarted()
        #expect(state.phase == .starting)
        let r2 = state.hand(requestID: "a")
        #expect(!r2)  // not yet in /next
        let r3 = state.nextRequested()
        #expect(r3 == .ready)
        let r4 = state.hand(requestID: "a")
        #expect(r4)
        #expect(state.phase == .running)
        #expect(state.held == "a")
        let r5 = state.hand(requestID: "b")
        #expect(!r5)  // one task at a time
        let r6 = state.answered()
        #expect(r6 == .accepted)
        #expect(state.held == nil)
        #expect(state.phase == .finishing)
        let r7 = state.nextRequested()
        #expect(r7 == .ready)
    }

    @Test func maxTasksPerProcessReplacesBetweenTasksAtOnce() {
        var state = WarmProcessState(maxTasksPerProcess: 2)
        state.processStarted()
        for (index, id) in ["a", "b"].enumerated() {
            _ = state.nextRequested()
            let r8 = state.hand(requestID: id)
            #expect(r8)
            let r9 = state.answered()
            #expect(r9 == (index == 0 ? .accepted : .acceptedThenKill(.recycle)))
        }
        let r10 = state.nextRequested()
        #expect(r10 == .refuse)  // being replaced: no poll for it
        let r11 = state.processExited()
        #expect(r11 == .init(heldTask: nil, restartAfter: .zero))
        state.processStarted()
        #expect(state.tasksServed == 0)
    }

    @Test func aCrashMidTaskFailsItAndBacksOffMoreEachTime() {
        var state = WarmProcessState()
        var delays: [Duration?] = []
        for id in ["a", "b", "c"] {
            state.processStarted()
            _ = state.nextRequested()
            _ = state.hand(requestID: id)
            let decision = state.processExited()
            #expect(decision.heldTask == .crashed)
            delays.append(decision.restartAfter)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        // A task answered resets the backoff.
        state.processStarted()
        _ = state.nextRequested()
        _ = state.hand(requestID: "d")
        _ = state.answered()
        #expect(state.failures == 0)
    }

    @Test func theBackoffIsCapped() {
        #expect(WarmProcessState.backoff(failures: 0) == .zero)
        #expect(WarmProcessState.backoff(failures: 9) == .milliseconds(25_600))
        #expect(WarmProcessState.backoff(failures: 10) == WarmProcessState.maxBackoff)
        #expect(WarmProcessState.backoff(failures: 500) == WarmProcessState.maxBackoff)
    }

    @Test func anInitErrorClosesTheSlotsPollsAndBacksOff() {
        var state = WarmProcessState()
        state.processStarted()
        state.initErrorPosted()
        #expect(state.phase == .initFailed)
        let r12 = state.nextRequested()
        #expect(r12 == .refuse)
        let r13 = state.hand(requestID: "a")
        #expect(!r13)
        let r14 = state.processExited()
        #expect(r14 == .init(heldTask: nil, restartAfter: .milliseconds(100), failedToStart: true))
    }

    @Test func aRuntimeThatStaysAfterItsInitErrorIsEndedAndRetriedWithBackoff() {
        var state = WarmProcessState()
        state.processStarted()
        state.initErrorPosted()
        let killed = state.initErrorGraceOver()
        #expect(killed)
        let again = state.initErrorGraceOver()
        #expect(!again)
        let exit = state.processExited()
        #expect(exit == .init(heldTask: nil, restartAfter: .milliseconds(100), failedToStart: true))
        // A grace that ends after the replacement started leaves the new process alone.
        state.processStarted()
        let late = state.initErrorGraceOver()
        #expect(!late)
    }

    @Test func aTimeoutOrAStopEndsTheTaskAsSuchAndReplacesAtOnce() {
        for (reason, end) in [
            (WarmProcessState.KillReason.timeout, WarmProcessState.HeldTaskEnd.timedOut),
            (.stop(.taskGone), .stopped(.taskGone)), (.stop(.shutdownGrace), .stopped(.shutdownGrace)),
        ] {
            var state = WarmProcessState()
            state.processStarted()
            _ = state.nextRequested()
            _ = state.hand(requestID: "a")
            let r15 = state.kill(reason)
            #expect(r15)
            let r16 = state.kill(.timeout)
            #expect(!r16)  // the first reason stands
            let r17 = state.processExited()
            #expect(r17 == .init(heldTask: end, restartAfter: .zero))
            #expect(state.failures == 0)
        }
    }

    @Test func nextWithoutAnAnswerFailsTheHeldTask() {
        var state = WarmProcessState()
        state.processStarted()
        _ = state.nextRequested()
        _ = state.hand(requestID: "a")
        let r18 = state.nextRequested()
        #expect(r18 == .failHeldThenReady)
        #expect(state.held == nil)
        #expect(state.phase == .waiting)
    }

    @Test func retiringWaitsForTheTaskInHandThenStopsForGood() {
        var state = WarmProcessState()
        state.processStarted()
        _ = state.nextRequested()
        _ = state.hand(requestID: "a")
        let r19 = state.retire()
        #expect(!r19)  // a running task is not interrupted
        let r20 = state.answered()
        #expect(r20 == .acceptedThenKill(.retire))
        let r21 = state.processExited()
        #expect(r21 == .init(heldTask: nil, restartAfter: nil))
        #expect(!state.mayRestart)
    }

    @Test func changedSettingsReplaceAnIdleProcessNowAndABusyOneAfterItsTask() {
        var idle = WarmProcessState()
        idle.processStarted()
        _ = idle.nextRequested()
        let r22 = idle.settingsChanged()
        #expect(r22)
        let r23 = idle.processExited()
        #expect(r23.restartAfter == .zero)

        var busy = WarmProcessState()
        busy.processStarted()
        _ = busy.nextRequested()
        _ = busy.hand(requestID: "a")
        let r24 = busy.settingsChanged()
        #expect(!r24)
        let r25 = busy.answered()
        #expect(r25 == .acceptedThenKill(.recycle))
    }
}
