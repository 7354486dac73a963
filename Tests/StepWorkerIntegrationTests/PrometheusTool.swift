import Foundation
import StepWorkerTestKit
import Testing

/// Debian's `prometheus` and `promtool` (apt package `prometheus`, which `make test` installs
/// through scripts/install-deps.sh), and the rules shipped in packaging/prometheus/.
enum PrometheusTool {
    static let rules = RepositoryPaths.root + "/packaging/prometheus/stepworker.rules.yml"
    static let rulesTest = RepositoryPaths.root + "/packaging/prometheus/stepworker.rules.test.yml"

    /// The executable `name` on PATH or in /usr/bin. A missing one fails the calling test with
    /// what to do: these tests must not pass silently where they could not run.
    static func require(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin"]
        let found = directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(
            found,
            "\(name) is not installed: run scripts/install-deps.sh as root (make test does), or apt-get install prometheus",
            sourceLocation: sourceLocation)
    }

    /// Runs `executable` with `arguments` in `directory` until it exits: its status and its
    /// stdout and stderr together. Bounded: killed after `timeout`.
    static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil, timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = TemporaryDirectory()
        let file = output.write("output", "")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let exited = try await waitUntil(timeout: timeout) { !process.isRunning }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try handle.close()
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return (exited ? process.terminationStatus : -1, text)
    }
}
