#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSpawn
import FoundationEssentials
import Logging
import POSIXSupport
import Synchronization

/// One long-lived thread that spawns every handler and drives all of them with one epoll set
/// (level-triggered; the parent's pipe ends are non-blocking), instead of a thread per run.
///
/// The reactor thread does the spawning on purpose: PR_SET_PDEATHSIG follows the spawning
/// *thread*, and this one lives as long as the daemon. New runs and stop requests reach it through
/// `submit` and `HandlerRun.terminate`, both of which write the one eventfd.
final class HandlerReactor: Sendable {
    private struct Inbox {
        var starts: [(HandlerInvocation, HandlerRun)] = []
        var threadStarted = false
    }

    private let inbox = Mutex(Inbox())
    private let epollFD: Int32
    let wakeFD: Int32
    /// What each child checks its parent against (`getpid` is a system call; the daemon never forks).
    private let daemonPID = getpid()

    init() throws(LaunchError) {
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw LaunchError(errno: errno, doing: "epoll_create1") }
        let wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            let code = errno
            _ = close(epollFD)
            throw LaunchError(errno: code, doing: "eventfd")
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        _ = Self.watch(epollFD, wakeFD, events: EPOLLIN.rawValue, token: 0)
    }

    /// Hands a run to the reactor thread (started on first use).
    func submit(_ invocation: HandlerInvocation, _ run: HandlerRun) throws(SystemCallError) {
        run.attach(wake: wakeFD)
        let start = inbox.withLock { inbox in
            inbox.starts.append((invocation, run))
            defer { inbox.threadStarted = true }
            return !inbox.threadStarted
        }
        if start {
            // A thread name is at most 15 bytes (pthread_setname_np); "handlers" in `top -H`.
            try DetachedThread.start(name: "handlers") { [self] in loop() }
        }
        Self.wake(wakeFD)
    }

    static func wake(_ fd: Int32) {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    private static func watch(_ epollFD: Int32, _ fd: Int32, events: UInt32, token: UInt64) -> Bool {
        var event = epoll_event(events: events, data: epoll_data_t(u64: token))
        return epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0
    }

    // MARK: - The reactor thread

    /// Unblocks SIGCHLD on this thread, the parent of every handler, so the kernel discards the
    /// signal when a handler exits (its disposition is the default, ignore; exits are seen
    /// through each run's pidfd). The thread inherits the pool thread's mask, which blocks it,
    /// and a blocked SIGCHLD is not discarded: it went to the one thread that takes signals,
    /// libdispatch's on the main thread, which woke in `sigsuspend` for every handler's exit
    /// only to ignore the signal (a wake and two context switches per task; docs/benchmark.md).
    private static func dropChildSignals() {
        var childSignal = sigset_t()
        sigemptyset(&childSignal)
        sigaddset(&childSignal, SIGCHLD)
        pthread_sigmask(SIG_UNBLOCK, &childSignal, nil)
    }

    private func loop() -> Never {
        Self.dropChildSignals()
        var sessions: [UInt64: HandlerSession] = [:]
        var nextID: UInt64 = 1
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let now = POSIX.nowMilliseconds()
            var timeout: Int32 = -1
            // Sessions are changed in place through their index: `sessions[id]!.isDone` and
            // `sessions[id] != nil` copied the whole session (its invocation, logger and
            // activity: dozens of retains and releases) for every session at every wake.
            var done: [UInt64] = []
            var index = sessions.startIndex
            while index != sessions.endIndex {
                sessions.values[index].advance(now: now)
                if sessions.values[index].isDone {
                    done.append(sessions.keys[index])
                } else {
                    let next = sessions.values[index].pollTimeout(now: now)
                    if next >= 0, timeout < 0 || next < timeout { timeout = next }
                }
                sessions.formIndex(after: &index)
            }
            for id in done { finish(sessions.removeValue(forKey: id)!) }
            let count = epoll_wait(epollFD, &events, Int32(events.count), timeout)
            guard count > 0 else { continue }
            for index in 0..<Int(count) {
                let token = events[index].data.u64
                if token == 0 {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    for (invocation, run) in inbox.withLock({ inbox in defer { inbox.starts = [] }; return inbox.starts }) {
                        if let session = launch(invocation, run, id: nextID) {
                            sessions[nextID] = session
                            nextID += 1
                        }
                    }
                    continue
                }
                guard let session = sessions.index(forKey: token >> 2) else { continue }
                // The session closes a descriptor it is done with, and the close takes it out
                // of the epoll set (an EPOLL_CTL_DEL afterwards could only fail). An event for
                // a descriptor already closed finds it nil in the session, or no session.
                switch token & 3 {
                case 0: sessions.values[session].leaderDidExit(now: POSIX.nowMilliseconds())
                case 1: sessions.values[session].writeInput()
                case 2: sessions.values[session].readStdout(buffer)
                default: sessions.values[session].readStderr(buffer)
                }
            }
        }
    }

    /// Spawns one handler (the reactor waits only for the vfork) and registers its descriptors;
    /// a failure finishes that run alone.
    private func launch(_ invocation: HandlerInvocation, _ run: HandlerRun, id: UInt64) -> HandlerSession? {
        let clock = ContinuousClock()
        let started = clock.now
        let startedAt = POSIX.nowMilliseconds()
        var pipes = HandlerPipes()
        do {
            try pipes.open()
        } catch {
            pipes.closeAll()
            run.finish(with: HandlerRunResult(termination: .launchFailed(error.message), launchErrno: error.code))
            return nil
        }
        let pid: pid_t
        do {
            pid = try LaunchPlan(invocation).spawn(
                stdin: pipes.stdinRead, stdout: pipes.stdoutWrite, stderr: pipes.stderrWrite, expectedParent: daemonPID)
        } catch {
            pipes.closeAll()
            run.finish(with: HandlerRunResult(
                termination: .launchFailed(error.message), duration: clock.now - started, launchErrno: error.code))
            return nil
        }
        pipes.closeChildEnds()
        // Not reaped until the session is done, so the pid cannot be reused meanwhile.
        let pidFD = cspawn_pidfd_open(pid)
        let session = HandlerSession(
            run: run, processID: pid, pidFD: pidFD >= 0 ? pidFD : nil, pipes: pipes,
            invocation: invocation, startedAt: startedAt, started: started)
        let base = id << 2
        if let fd = session.pidFD { _ = Self.watch(epollFD, fd, events: EPOLLIN.rawValue, token: base) }
        if let fd = session.stdinFD { _ = Self.watch(epollFD, fd, events: EPOLLOUT.rawValue, token: base | 1) }
        if let fd = session.stdoutFD { _ = Self.watch(epollFD, fd, events: EPOLLIN.rawValue, token: base | 2) }
        if let fd = session.stderrFD { _ = Self.watch(epollFD, fd, events: EPOLLIN.rawValue, token: base | 3) }
        return session
    }

    /// Reaps the leader (it has exited, or the drain ran out after its SIGKILL) and completes
    /// the run.
    private func finish(_ ended: HandlerSession) {
        var session = ended
        session.closeAll()  // out of the epoll set with the close
        if let line = session.stderr.flush() { session.logger.info("\(line)") }
        session.reportDroppedLines(now: POSIX.nowMilliseconds(), final: true)
        let status = SubprocessRunner.reap(session.processID)
        session.run.finish(with: HandlerRunResult(
            termination: SubprocessRunner.termination(status, endedBy: session.deadlines.endedBy, session.invocation),
            stdout: session.capture.bytes, stdoutBytes: session.capture.totalBytes,
            stderrTail: session.stderr.tailText, stderrLinesDropped: session.stderrGate.droppedLines,
            duration: ContinuousClock().now - session.started, processID: session.processID))
    }
}
