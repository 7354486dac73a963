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

/// Drives one running handler from a dedicated thread with poll(2): writes stdin while reading
/// stdout and stderr (so neither side can block the other), and feeds the clock, stop requests
/// and the leader's exit to `HandlerDeadlines`, which decides when to signal the group and when
/// to stop waiting for pipes that outsiders still hold open (the loop only does what it says).
struct HandlerIOLoop: ~Copyable {
    struct Outcome: Sendable {
        var capture: OutputCapture
        var stderrTail: String
        var endedBy: HandlerEndReason?
    }

    let processID: pid_t
    let invocation: HandlerInvocation
    let stopReason: @Sendable () -> HandlerStopReason?
    let logger: Logger
    private var pidFD: Int32?
    private var stdinFD: Int32?
    private var stdoutFD: Int32?
    private var stderrFD: Int32?
    private let wakeFD: Int32
    private var inputOffset = 0
    private var capture: OutputCapture
    private var stderr = StderrCollector()
    private var deadlines: HandlerDeadlines
    private let buffer: UnsafeMutableRawBufferPointer

    init(
        processID: pid_t, pidFD: Int32?, stdin: Int32, stdout: Int32, stderr: Int32, wake: Int32,
        invocation: HandlerInvocation, startedAt: Int64, stopReason: @escaping @Sendable () -> HandlerStopReason?
    ) {
        self.processID = processID
        self.pidFD = pidFD
        self.stdinFD = stdin
        self.stdoutFD = stdout
        self.stderrFD = stderr
        self.wakeFD = wake
        self.invocation = invocation
        self.stopReason = stopReason
        self.capture = OutputCapture(limit: invocation.maxOutput)
        self.deadlines = HandlerDeadlines(
            startedAt: startedAt, timeout: invocation.timeout?.milliseconds,
            killGrace: invocation.killGrace.milliseconds, drainGrace: invocation.drainGrace.milliseconds,
            pollsForLeaderExit: pidFD == nil)
        var logger = invocation.logger
        logger[metadataKey: "STEPWORKER_HANDLER_PID"] = "\(processID)"
        self.logger = logger
        self.buffer = .allocate(byteCount: 65_536, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        for fd in [pidFD, stdinFD, stdoutFD, stderrFD] { if let fd { _ = close(fd) } }
    }

    consuming func run() -> Outcome {
        if invocation.input.isEmpty { PosixIO.closeIfOpen(&stdinFD) }
        while !(deadlines.leaderExited && stdoutFD == nil && stderrFD == nil) {
            let now = POSIX.nowMilliseconds()
            let reason = deadlines.acceptsStopRequest ? stopReason() : nil
            let actions = deadlines.event(reason.map { .stopRequested($0, now: now) } ?? .tick(now: now))
            if perform(actions) { break }
            if !deadlines.leaderExited, pidFD == nil, Self.hasExited(processID) { leaderDidExit(now: now) }
            waitForEvents(now: now)
        }
        if let line = stderr.flush() { logger.info("\(line)") }
        return Outcome(capture: capture, stderrTail: stderr.tailText, endedBy: deadlines.endedBy)
    }

    /// Sends the signals the deadlines ask for; returns whether they say to stop waiting.
    @discardableResult
    private func perform(_ actions: [HandlerDeadlines.Action]) -> Bool {
        var stopWaiting = false
        for action in actions {
            switch action {
            case .signalGroup(let signal): _ = killpg(processID, signal)
            case .stopWaiting: stopWaiting = true
            }
        }
        return stopWaiting
    }

    private mutating func leaderDidExit(now: Int64) {
        PosixIO.closeIfOpen(&pidFD)
        PosixIO.closeIfOpen(&stdinFD)
        perform(deadlines.event(.leaderExited(now: now)))
    }

    /// Without a pidfd: whether the leader is a zombie (not reaped: the runner reaps only after
    /// this loop returns) or gone.
    private static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return true }
        return info._sifields._sigchld.si_pid == pid
    }

    private mutating func waitForEvents(now: Int64) {
        let timeout = deadlines.pollTimeout(now: now)

        var fds: [pollfd] = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        if let pidFD { fds.append(pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)) }
        if let stdinFD { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
        if let stdoutFD { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if let stderrFD { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        guard poll(&fds, nfds_t(fds.count), timeout) > 0 else { return }

        for entry in fds where entry.revents != 0 {
            switch entry.fd {
            case wakeFD:
                var bytes: (UInt64, UInt64) = (0, 0)
                _ = read(wakeFD, &bytes, 16)
            case pidFD: leaderDidExit(now: POSIX.nowMilliseconds())
            case stdinFD: writeInput()
            case stdoutFD: readStdout()
            case stderrFD: readStderr()
            default: break
            }
        }
    }

    private mutating func writeInput() {
        guard let fd = stdinFD else { return }
        let remaining = invocation.input.count - inputOffset
        let written = invocation.input.withUnsafeBytes { bytes in
            write(fd, bytes.baseAddress! + inputOffset, min(remaining, 65_536))
        }
        if written > 0 {
            inputOffset += written
            if inputOffset == invocation.input.count { PosixIO.closeIfOpen(&stdinFD) }
        } else if written < 0, errno != EAGAIN, errno != EINTR {
            // EPIPE: the handler does not read its input. That is its business.
            PosixIO.closeIfOpen(&stdinFD)
        }
    }

    /// Reads what is there, at most a few buffers at a time so the other pipes get their turn;
    /// closes the pipe at EOF.
    private mutating func readStdout() {
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

    private mutating func readStderr() {
        guard let fd = stderrFD else { return }
        for _ in 0..<16 {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                for line in stderr.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) {
                    logger.info("\(line)")
                }
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) { PosixIO.closeIfOpen(&stderrFD) }
            return
        }
    }
}
