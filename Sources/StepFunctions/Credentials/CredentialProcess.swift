import Foundation

/// `credential_process`: a command (run without a shell) that prints credentials as JSON:
/// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}`.
///
/// Its standard output holds secrets, so no error or log line ever includes it; a failure names
/// the command's program, its exit status and (trimmed) standard error.
struct CredentialProcess: Sendable {
    static let source = "credential_process"
    var commandLine: String
    var environment: [String: String]

    func run() async throws(CredentialError) -> AWSCredentials {
        let arguments: [String]
        do {
            arguments = try Self.split(commandLine)
        } catch {
            throw .invalid(Self.source, "cannot split the command: \(error.message)")
        }
        guard let program = arguments.first else { throw .invalid(Self.source, "the command is empty") }
        guard let executable = Self.locate(program, path: environment["PATH"]) else {
            throw .invalid(Self.source, "'\(program)' not found (PATH from the environment)")
        }
        let result: (status: Int32, stdout: Data, stderr: Data)
        do {
            result = try await Self.execute(executable, Array(arguments.dropFirst()), environment: environment)
        } catch {
            throw .failed(Self.source, "cannot start '\(program)': \(error.localizedDescription)")
        }
        guard result.status == 0 else {
            var message = "'\(program)' exited with status \(result.status)"
            let stderr = String(decoding: result.stderr.prefix(512), as: UTF8.self).trimmingWhitespace()
            if !stderr.isEmpty { message += "; stderr: \(stderr)" }
            throw .failed(Self.source, message)
        }
        return try Self.parse(result.stdout, program: program)
    }

    /// Decodes the process output; errors never quote it.
    static func parse(_ output: Data, program: String) throws(CredentialError) -> AWSCredentials {
        struct Output: Decodable {
            var Version: Int?
            var AccessKeyId: String?
            var SecretAccessKey: String?
            var SessionToken: String?
            var Expiration: String?
        }
        guard let decoded = try? JSONDecoder().decode(Output.self, from: output) else {
            throw .failed(source, "'\(program)' did not print a JSON object (\(output.count) bytes of output, not shown)")
        }
        guard decoded.Version == 1 else {
            throw .failed(source, "'\(program)' printed Version \(decoded.Version.map { String($0) } ?? "(none)"); only 1 is supported")
        }
        guard let keyID = decoded.AccessKeyId, !keyID.isEmpty else {
            throw .failed(source, "'\(program)' printed no AccessKeyId")
        }
        guard let secret = decoded.SecretAccessKey, !secret.isEmpty else {
            throw .failed(source, "'\(program)' printed no SecretAccessKey")
        }
        var expiration: Date?
        if let text = decoded.Expiration {
            guard let date = ISO8601Timestamp.parse(text) else {
                throw .failed(source, "'\(program)' printed an Expiration that is not an ISO 8601 time")
            }
            expiration = date
        }
        let token = decoded.SessionToken.flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    struct SplitError: Error { var message: String }

    /// POSIX shell word splitting without expansion, as Python's `shlex.split` (which the SDKs
    /// use): whitespace separates words; `'…'` is literal; in `"…"` a backslash escapes only
    /// `\ " $` and a backquote; outside quotes a backslash escapes any character.
    static func split(_ line: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = Array(line).makeIterator()
        while let char = iterator.next() {
            switch char {
            case _ where char.isWhitespace:
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                while true {
                    guard let next = iterator.next() else { throw SplitError(message: "no closing quotation") }
                    if next == "'" { break }
                    word.append(next)
                }
            case "\"":
                inWord = true
                while true {
                    guard let next = iterator.next() else { throw SplitError(message: "no closing quotation") }
                    if next == "\"" { break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { throw SplitError(message: "no closing quotation") }
                        if !"\\\"$`".contains(escaped) { word.append("\\") }
                        word.append(escaped)
                    } else {
                        word.append(next)
                    }
                }
            case "\\":
                inWord = true
                guard let escaped = iterator.next() else { throw SplitError(message: "no escaped character") }
                word.append(escaped)
            default:
                inWord = true
                word.append(char)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// A program with a `/` is a path; otherwise the first executable match in `PATH`.
    static func locate(_ program: String, path: String?) -> String? {
        if program.contains("/") {
            return FileManager.default.isExecutableFile(atPath: program) ? program : nil
        }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs the child off the cooperative pool: reading its pipes blocks a thread.
    private static func execute(
        _ executable: String, _ arguments: [String], environment: [String: String]
    ) async throws -> (status: Int32, stdout: Data, stderr: Data) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.environment = environment
                let stdout = Pipe()
                let stderr = Pipe()
                process.standardOutput = stdout
                process.standardError = stderr
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                // Drain stderr concurrently so a chatty child cannot fill one pipe and stall.
                let stderrData = LockedData()
                let group = DispatchGroup()
                group.enter()
                DispatchQueue.global().async {
                    stderrData.set(stderr.fileHandleForReading.readDataToEndOfFile())
                    group.leave()
                }
                let out = stdout.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, out, stderrData.get()))
            }
        }
    }
}

/// A `Data` handed from one dispatch thread to another.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
