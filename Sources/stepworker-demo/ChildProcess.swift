import Foundation

/// A child process of the demo: stdout read line by line, stopped with SIGTERM.
final class ChildProcess: Sendable {
    private let process: Process
    private let stdout: FileHandle

    init(executable: URL, arguments: [String], environment: [String: String]? = nil, stderrToParent: Bool = false) throws {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = pipe
        process.standardError = stderrToParent ? FileHandle.standardError : FileHandle.nullDevice
        try process.run()
        self.process = process
        self.stdout = pipe.fileHandleForReading
    }

    /// The next line the child prints, or nil once its stdout closed. Blocks until then: the
    /// demo asks only for the endpoint's one "listening on" line.
    func readLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = stdout.readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    /// Sends SIGTERM (once) and waits; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
