import Foundation
import Synchronization

/// A child process for end-to-end tests: output collected as it comes, exit awaited without
/// blocking a thread. `Process` is not `Sendable`; this type only reads its pid and running state
/// from other threads, which Foundation allows.
final class ChildProcess: @unchecked Sendable {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private let process: Process
    private let output = Mutex<(stdout: Data, stderr: Data)>((Data(), Data()))
    private let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        self.process = process
        stdout.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            self?.output.withLock { $0.stdout.append(data) }
        }
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            self?.output.withLock { $0.stderr.append(data) }
        }
        process.terminationHandler = { [weak self] process in
            let status = process.terminationStatus
            let waiters = self?.exit.withLock { state -> [CheckedContinuation<Int32, Never>] in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            } ?? []
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { output.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.withLock { String(decoding: $0.stderr, as: UTF8.self) } }

    /// The exit status, once the process has exited (a signal shows as the signal number).
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = exit.withLock { state -> Int32? in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Waits for the exit at most `timeout`; nil when still running.
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exit.withLock({ $0.status }) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exit.withLock { $0.status }
    }

    /// Waits until stdout has a line starting with `prefix`; that line.
    func line(startingWith prefix: String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) { return String(line) }
            if exit.withLock({ $0.status }) != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("no line starting with '\(prefix)'; stdout: \(stdout) stderr: \(stderr)")
    }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Runs to the end (killed after `timeout`).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(30)) async throws -> Result {
        let child = try ChildProcess(executable, arguments, environment: environment)
        guard let status = await child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = await child.wait()
            throw TestFailure("\(executable) \(arguments.first ?? "") ran longer than \(timeout)")
        }
        // Let the readability handlers drain what is left in the pipes.
        try await Task.sleep(for: .milliseconds(50))
        return Result(status: status, stdout: child.stdout, stderr: child.stderr)
    }
}
