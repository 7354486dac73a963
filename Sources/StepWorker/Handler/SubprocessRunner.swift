#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSpawn
import FoundationEssentials
import POSIXSupport

/// The real `ProcessRunner`. One long-lived thread per runner, the `HandlerReactor`, spawns every
/// handler (`LaunchPlan`: its own session, the clean environment, directory and identity), drives
/// all of their pipes and deadlines with one epoll set (bytes, limits, signals) and reaps them.
///
/// The thread that spawns lives as long as the daemon, on purpose: the handler is spawned with
/// PR_SET_PDEATHSIG, which the kernel ties to the spawning *thread*, not to the process. From a
/// Swift concurrency pool thread the handler would be SIGKILLed whenever the pool retired that
/// thread; the reactor thread never ends, so the handler is SIGKILLed only with the daemon, and
/// a SIGKILLed daemon leaves no handler leader behind, even outside systemd.
public struct SubprocessRunner: ProcessRunner {
    private let reactor: Result<HandlerReactor, LaunchError>

    public init() {
        PosixIO.ignoreSIGPIPE
        do throws(LaunchError) {
            reactor = .success(try HandlerReactor())
        } catch {
            reactor = .failure(error)
        }
    }

    public func start(_ invocation: HandlerInvocation) -> any RunningHandler {
        let run = HandlerRun()
        switch reactor {
        case .success(let reactor):
            do {
                try reactor.submit(invocation, run)
            } catch {
                run.finish(with: HandlerRunResult(termination: .launchFailed("cannot start the handlers' thread: \(error)")))
            }
        case .failure(let error):
            run.finish(with: HandlerRunResult(termination: .launchFailed(error.message)))
        }
        return run
    }

    /// The leader's wait status (it has exited: the loop returns only then). The daemon never
    /// sets SIGCHLD to SIG_IGN and nothing else waits for its children, so this cannot fail;
    /// if it ever did, the status reads as exit 255.
    static func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 << 8 }
        }
        return status
    }

    static func termination(
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
