#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import POSIXSupport
import Subprocess
import SystemPackage

/// The real `ProcessRunner`: swift-subprocess starts the handler in its own session (so its
/// own process group) with the clean environment, directory and identity; `HandlerIOLoop`
/// then moves its bytes and enforces its limits on a thread of its own.
public struct SubprocessRunner: ProcessRunner {
    public init() {
        PosixIO.ignoreSIGPIPE
    }

    public func start(_ invocation: HandlerInvocation) -> any RunningHandler {
        let run = HandlerRun()
        Task.detached {
            run.finish(with: await Self.execute(invocation, run: run))
        }
        return run
    }

    private static func execute(_ invocation: HandlerInvocation, run: HandlerRun) async -> HandlerRunResult {
        let clock = ContinuousClock()
        let started = clock.now
        let startedAt = POSIX.nowMilliseconds()
        if let problem = launchProblem(invocation.executablePath) {
            return HandlerRunResult(termination: .launchFailed(problem))
        }
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

        let ends = pipes
        do {
            let plan = LaunchPlan(invocation)
            let execution = try await Subprocess.run(
                .path(FilePath(plan.executable)),
                arguments: Arguments(
                    executablePathOverride: plan.arguments.first,
                    remainingValues: Array(plan.arguments.dropFirst())),
                environment: .custom(Dictionary(uniqueKeysWithValues: invocation.environment.compactMap { name, value in
                    Environment.Key(rawValue: name).map { ($0, value) }
                })),
                workingDirectory: invocation.workingDirectory.map { FilePath($0) },
                platformOptions: plan.platformOptions,
                input: .fileDescriptor(FileDescriptor(rawValue: ends.stdinRead), closeAfterSpawningProcess: false),
                output: .fileDescriptor(FileDescriptor(rawValue: ends.stdoutWrite), closeAfterSpawningProcess: false),
                error: .fileDescriptor(FileDescriptor(rawValue: ends.stderrWrite), closeAfterSpawningProcess: false)
            ) { execution in
                ends.closeChildEnds()
                run.markSpawned()
                let pid = execution.processIdentifier.value
                let descriptor = execution.processIdentifier.processDescriptor
                let pidFD = descriptor >= 0 ? fcntl(descriptor, F_DUPFD_CLOEXEC, 0) : -1
                return await withCheckedContinuation { continuation in
                    let thread = Thread {
                        let loop = HandlerIOLoop(
                            processID: pid, pidFD: pidFD >= 0 ? pidFD : nil, stdin: ends.stdinWrite,
                            stdout: ends.stdoutRead, stderr: ends.stderrRead, wake: wake, invocation: invocation,
                            startedAt: startedAt, stopReason: { run.stopReason })
                        continuation.resume(returning: (pid, loop.run()))
                    }
                    thread.name = "stepworker-handler"
                    thread.start()
                }
            }
            let (pid, outcome) = execution.closureResult
            return HandlerRunResult(
                termination: termination(execution.terminationStatus, endedBy: outcome.endedBy, invocation),
                stdout: outcome.capture.bytes, stdoutBytes: outcome.capture.totalBytes,
                stderrTail: outcome.stderrTail, duration: clock.now - started, processID: pid)
        } catch {
            if !run.wasSpawned { pipes.closeAll() }
            return HandlerRunResult(termination: .launchFailed(launchFailure(error)), duration: clock.now - started)
        }
    }

    private static func termination(
        _ status: TerminationStatus, endedBy: HandlerEndReason?, _ invocation: HandlerInvocation
    ) -> HandlerTermination {
        switch endedBy {
        case .timeout: return .timedOut(limit: invocation.timeout ?? .zero)
        case .stopRequested(let reason): return .stopped(reason)
        case nil: break
        }
        switch status {
        case .exited(let code): return .exited(code)
        case .signaled(let signal): return .signalled(signal)
        }
    }

    /// Why `path` cannot be executed, checked before spawning: swift-subprocess reports every
    /// failed exec of a path as "not found", which would hide EACCES.
    private static func launchProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return POSIX.describe(errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return POSIX.describe(EACCES) }
        guard access(path, X_OK) == 0 else { return POSIX.describe(errno) }
        return nil
    }

    /// errno text for a failed launch, as `Handler.LaunchFailed`'s cause.
    private static func launchFailure(_ error: any Error) -> String {
        guard let error = error as? SubprocessError else { return "\(error)" }
        if let underlying = error.underlyingError {
            return POSIX.describe(underlying.rawValue)
        }
        if error.code == .executableNotFound { return POSIX.describe(ENOENT) }
        return "\(error)"
    }
}
