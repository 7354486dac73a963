#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import POSIXSupport

/// Why the worker ended a handler's group.
enum HandlerEndReason: Sendable, Equatable {
    case timeout
    case stopRequested(HandlerStopReason)
}

/// One running handler as the reactor sees it: its descriptors, what it has read and written so
/// far, and its `HandlerDeadlines` (the one owner of signal and timeout decisions). The reactor
/// calls these when epoll says a descriptor is ready; nothing here blocks.
struct HandlerSession {
    let run: HandlerRun
    let processID: pid_t
    let invocation: HandlerInvocation
    let logger: Logger
    let started: ContinuousClock.Instant
    var pidFD: Int32?
    var stdinFD: Int32?
    var stdoutFD: Int32?
    var stderrFD: Int32?
    var inputOffset = 0
    var capture: OutputCapture
    var stderr = StderrCollector()
    /// Whether each stderr line is logged (`LineRateLimiter`); a warm slot's own, else the run's.
    let stderrGate: StderrLineGate
    var deadlines: HandlerDeadlines
    /// The drain deadline passed: finish with what was read.
    var stopWaiting = false

    init(run: HandlerRun, processID: pid_t, pidFD: Int32?, pipes: HandlerPipes,
         invocation: HandlerInvocation, startedAt: Int64, started: ContinuousClock.Instant) {
        self.run = run
        self.processID = processID
        self.pidFD = pidFD
        self.stdinFD = pipes.stdinWrite
        self.stdoutFD = pipes.stdoutRead
        self.stderrFD = pipes.stderrRead
        self.invocation = invocation
        self.started = started
        self.capture = OutputCapture(limit: invocation.maxOutput)
        self.stderrGate = invocation.stderrGate ?? StderrLineGate(now: startedAt)
        self.deadlines = HandlerDeadlines(
            startedAt: startedAt, timeout: invocation.timeout?.milliseconds,
            killGrace: invocation.killGrace.milliseconds, drainGrace: invocation.drainGrace.milliseconds,
            pollsForLeaderExit: pidFD == nil)
        var logger = invocation.logger
        logger[metadataKey: "STEPWORKER_HANDLER_PID"] = "\(processID)"
        self.logger = logger
        if invocation.input.isEmpty { PosixIO.closeIfOpen(&stdinFD) }
    }

    /// Done once the leader is gone and both output pipes are closed, or the drain ran out.
    var isDone: Bool { stopWaiting || (deadlines.leaderExited && stdoutFD == nil && stderrFD == nil) }

    /// A tick (or a stop request) at `now`: what the deadlines say, done.
    mutating func advance(now: Int64) {
        let reason = deadlines.acceptsStopRequest ? run.stopReason : nil
        perform(deadlines.event(reason.map { .stopRequested($0, now: now) } ?? .tick(now: now)))
        if !deadlines.leaderExited, pidFD == nil, Self.hasExited(processID) { leaderDidExit(now: now) }
        reportDroppedLines(now: now)
    }

    /// poll(2)'s timeout at `now`: the deadlines', or sooner when dropped lines are due to be reported.
    func pollTimeout(now: Int64) -> Int32 {
        let timeout = deadlines.pollTimeout(now: now)
        guard let due = stderrGate.reportDue else { return timeout }
        let report = Int32(clamping: max(0, due - now))
        return timeout < 0 ? report : min(timeout, report)
    }

    /// Logs how many stderr lines were dropped, when a report is due (or, `final`, whatever
    /// is left at the end of the run).
    func reportDroppedLines(now: Int64, final: Bool = false) {
        let count = stderrGate.withLimiter { final ? $0.takeFinalReport() : $0.takeReport(now: now) }
        guard let count else { return }
        logger.warning("Handler stderr is over its rate limit; lines were dropped from the log", metadata: [
            "dropped": "\(count)", "burst": "\(stderrGate.policy.burst)",
            "lines_per_second": "\(stderrGate.policy.linesPerSecond)",
        ])
    }

    mutating func leaderDidExit(now: Int64) {
        PosixIO.closeIfOpen(&pidFD)
        PosixIO.closeIfOpen(&stdinFD)
        perform(deadlines.event(.leaderExited(now: now)))
    }

    private mutating func perform(_ actions: [HandlerDeadlines.Action]) {
        for action in actions {
            switch action {
            case .signalGroup(let signal): _ = killpg(processID, signal)
            case .stopWaiting: stopWaiting = true
            }
        }
    }

    /// Without a pidfd: whether the leader is a zombie (not reaped yet) or gone.
    private static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return true }
        return info._sifields._sigchld.si_pid == pid
    }

    /// Writes a chunk of the input (64 KiB at most, so a huge input never holds up other runs).
    mutating func writeInput() {
        guard let fd = stdinFD else { return }
        let offset = inputOffset
        let remaining = invocation.input.count - offset
        let written = invocation.input.withUnsafeBytes { bytes in
            write(fd, bytes.baseAddress! + offset, min(remaining, 65_536))
        }
        if written > 0 {
            inputOffset += written
            if inputOffset == invocation.input.count { PosixIO.closeIfOpen(&stdinFD) }
        } else if written < 0, errno != EAGAIN, errno != EINTR {
            // EPIPE: the handler does not read its input. That is its business.
            PosixIO.closeIfOpen(&stdinFD)
        }
    }

    mutating func readStdout(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let fd = stdoutFD else { return }
        for _ in 0..<16 {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                capture.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) { PosixIO.closeIfOpen(&stdoutFD) }
            return
        }
    }

    /// Reads stderr and logs the lines the rate limit lets through. Dropped lines are read all
    /// the same: the pipe never fills because of the limit, so the handler never blocks on it.
    mutating func readStderr(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let fd = stderrFD else { return }
        let now = POSIX.nowMilliseconds()
        defer { reportDroppedLines(now: now) }
        for _ in 0..<16 {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                let lines = stderrGate.withLimiter { limiter in stderr.append(chunk, limiter: &limiter, now: now) }
                for line in lines { logger.info("\(line)") }
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) { PosixIO.closeIfOpen(&stderrFD) }
            return
        }
    }

    /// Closes what is still open (closing a descriptor also removes it from the epoll set).
    mutating func closeAll() {
        PosixIO.closeIfOpen(&pidFD)
        PosixIO.closeIfOpen(&stdinFD)
        PosixIO.closeIfOpen(&stdoutFD)
        PosixIO.closeIfOpen(&stderrFD)
    }
}
