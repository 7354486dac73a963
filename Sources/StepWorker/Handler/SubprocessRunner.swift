#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSpawn
import FoundationEssentials
import POSIXSupport

/// The real `ProcessRunner`. Each handler gets a thread of its own, which spawns it
/// (`LaunchPlan`: its own session, the clean environment, directory and identity), runs its
/// `HandlerIOLoop` (bytes, limits, signals) and reaps it.
///
/// The thread that spawns is the one that lives as long as the handler, on purpose: the handler is
/// spawned with PR_SET_PDEATHSIG, which the kernel ties to the spawning *thread*, not to the
/// process. From a Swift concurrency pool thread the handler would be SIGKILLed whenever the pool
/// retired that thread; from this one it is SIGKILLed only if the thread ends first, which happens
/// only with the daemon (the loop returns once the leader has exited). So a SIGKILLed daemon
/// leaves no handler leader behind, even outside systemd.
public struct SubprocessRunner: ProcessRunner {
    public init() {
        PosixIO.ignoreSIGPIPE
    }

    public func start(_ invocation: HandlerInvocation) -> any RunningHandler {
        let run = HandlerRun()
        do {
            // A thread name is at most 15 bytes (pthread_setname_np); "handler" in `top -H`.
            try DetachedThread.start(name: "handler") { run.finish(with: Self.execute(invocation, run: run)) }
        } catch {
            run.finish(with: HandlerRunResult(termination: .launchFailed("cannot start the handler's thread: \(error)")))
        }
        return run
    }

    /// The whole run, on the handler's thread.
    private static func execute(_ invocation: HandlerInvocation, run: HandlerRun) -> HandlerRunResult {
        let clock = ContinuousClock()
        let started = clock.now
        let startedAt = POSIX.nowMilliseconds()
        var pipes = HandlerPipes()
        do {
            try pipes.open()
        } catch {
            pipes.closeAll()
            return HandlerRunResult(termination: .launchFailed(error.message))
        }
        guard let wake = run.openWake() else {
            pipes.closeAll()
            return HandlerRunResult(termination: .launchFailed("pipe: \(POSIX.describe(errno))"))
        }
        defer { run.closeWake() }

        let pid: pid_t
        do {
            pid = try LaunchPlan(invocation).spawn(stdin: pipes.stdinRead, stdout: pipes.stdoutWrite, stderr: pipes.stderrWrite)
        } catch {
            pipes.closeAll()
            return HandlerRunResult(termination: .launchFailed(error.message), duration: clock.now - started)
        }
        pipes.closeChildEnds()
        // Not reaped until the loop is done, so the pid cannot be reused meanwhile.
        let pidFD = cspawn_pidfd_open(pid)
        let loop = HandlerIOLoop(
            processID: pid, pidFD: pidFD >= 0 ? pidFD : nil, stdin: pipes.stdinWrite,
            stdout: pipes.stdoutRead, stderr: pipes.stderrRead, wake: wake, invocation: invocation,
            startedAt: startedAt, stopReason: { run.stopReason })
        let outcome = loop.run()
        return HandlerRunResult(
            termination: termination(reap(pid), endedBy: outcome.endedBy, invocation),
            stdout: outcome.capture.bytes, stdoutBytes: outcome.capture.totalBytes,
            stderrTail: outcome.stderrTail, duration: clock.now - started, processID: pid)
    }

    /// The leader's wait status (it has exited: the loop returns only then). The daemon never
    /// sets SIGCHLD to SIG_IGN and nothing else waits for its children, so this cannot fail;
    /// if it ever did, the status reads as exit 255.
    private static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 << 8 }
        }
        return status
    }

    private static func termination(
        _ status: Int32, endedBy: HandlerEndReason?, _ invocation: HandlerInvocation
    ) -> HandlerTermination {
        switch endedBy {
        case .timeout: return .timedOut(limit: invocation.timeout ?? .zero)
        case .stopRequested(let reason): return .stopped(reason)
        case nil: break
        }
        // WIFEXITED/WEXITSTATUS/WTERMSIG, which Swift does not import (macros).
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}
