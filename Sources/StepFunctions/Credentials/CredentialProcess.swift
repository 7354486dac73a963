#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import FoundationEssentials
import POSIXSupport

/// `credential_process`: a command (run without a shell) that prints credentials as JSON:
/// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}`.
///
/// Its standard output holds secrets, so no error or log line ever includes it; a failure names
/// the command's program, its exit status and (trimmed) standard error.
struct CredentialProcess: Sendable {
    static let source = "credential_process"
    /// More standard output than this is not credentials: the command is killed.
    static let maxOutput = 64 * 1024
    /// How much of standard error an error message quotes.
    static let maxErrorExcerpt = 512
    var commandLine: String
    var environment: [String: String]
    /// After this the command and its process group are killed (the Go SDK's default is 1 minute).
    var timeout: Duration = .seconds(60)

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
        let outcome: Outcome
        do {
            outcome = try await Self.execute(executable, Array(arguments.dropFirst()), environment: environment, timeout: timeout)
        } catch {
            throw .failed(Self.source, "cannot start '\(program)': \(error.message)")
        }
        var message: String
        switch outcome.end {
        case .exited(0): return try Self.parse(Data(outcome.stdout), program: program)
        case .exited(let status): message = "'\(program)' exited with status \(status)"
        case .signaled(let signal): message = "'\(program)' was killed by signal \(signal)"
        case .timedOut: message = "'\(program)' timed out after \(timeout); killed it and its process group"
        case .outputTooLarge: message = "'\(program)' printed more than \(Self.maxOutput) bytes (not shown); killed it and its process group"
        }
        let stderr = String(decoding: outcome.stderr.prefix(Self.maxErrorExcerpt), as: UTF8.self).trimmingWhitespace()
        if !stderr.isEmpty { message += "; stderr: \(stderr)" }
        throw .failed(Self.source, message)
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

    /// How the child ended and what it printed (standard output capped at `maxOutput`, standard
    /// error at `maxErrorExcerpt`).
    struct Outcome: Sendable {
        enum End: Sendable, Equatable {
            case exited(Int32)
            case signaled(Int32)
            /// Killed with its process group at the deadline.
            case timedOut
            /// Killed with its process group for printing more than `maxOutput` bytes.
            case outputTooLarge
        }
        var end: End
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    /// Runs the child on a dispatch thread (the reads block a thread, never the cooperative pool).
    static func execute(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws(SpawnError) -> Outcome {
        let result: Result<Outcome, SpawnError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(SpawnError) in
                    try ChildProcess.run(executable, arguments, environment: environment, timeout: timeout)
                })
            }
        }
        return try result.get()
    }
}

struct SpawnError: Error, Sendable {
    var message: String
    init(_ call: String, _ code: Int32) { message = "\(call): \(String(cString: strerror(code)))" }
}

/// A child in its own process group, read through close-on-exec pipes with a deadline. At the
/// deadline (or when it prints too much) the whole group is killed with SIGKILL. Once the child
/// itself has exited, what is buffered is read and the pipes are closed: a background process it
/// left behind holding standard output does not keep us waiting for an end of file.
private enum ChildProcess {
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) throws(SpawnError) -> CredentialProcess.Outcome {
        let stdoutPipe = try makePipe()
        let stderrPipe: (read: Int32, write: Int32)
        do { stderrPipe = try makePipe() } catch { close(stdoutPipe.read); close(stdoutPipe.write); throw error }
        let pid: pid_t
        do {
            pid = try spawn(executable, arguments, environment: environment, stdout: stdoutPipe.write, stderr: stderrPipe.write)
        } catch {
            for fd in [stdoutPipe.read, stdoutPipe.write, stderrPipe.read, stderrPipe.write] { close(fd) }
            throw error
        }
        close(stdoutPipe.write)
        close(stderrPipe.write)
        defer {
            close(stdoutPipe.read)
            close(stderrPipe.read)
        }
        for fd in [stdoutPipe.read, stderrPipe.read] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        var stdout = Stream(fd: stdoutPipe.read, keep: CredentialProcess.maxOutput + 1)
        var stderr = Stream(fd: stderrPipe.read, keep: CredentialProcess.maxErrorExcerpt)
        let deadline = ContinuousClock.now + timeout
        var waitStatus: Int32 = 0
        while true {
            if waitpid(pid, &waitStatus, WNOHANG) == pid {
                // Exited: what it wrote is in the pipes; do not wait for ends of file held by
                // processes it left behind.
                stdout.drain()
                stderr.drain()
                if stdout.bytes.count > CredentialProcess.maxOutput {
                    return .init(end: .outputTooLarge, stdout: [], stderr: stderr.bytes)
                }
                return .init(end: end(of: waitStatus), stdout: stdout.bytes, stderr: stderr.bytes)
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                killGroup(pid)
                return .init(end: .timedOut, stdout: [], stderr: stderr.bytes)
            }
            // Wake at least every 50 ms to see whether the child has exited: its pipes may stay
            // open in a background process.
            let wait = min(remaining, .milliseconds(50))
            var fds = [stdout, stderr].filter { !$0.atEnd }.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let waitMilliseconds = Int32(max(1, wait.nanoseconds / 1_000_000))
            if fds.isEmpty {
                _ = poll(nil, 0, waitMilliseconds)
            } else {
                _ = poll(&fds, nfds_t(fds.count), waitMilliseconds)
            }
            stdout.drain()
            stderr.drain()
            if stdout.bytes.count > CredentialProcess.maxOutput {
                killGroup(pid)
                return .init(end: .outputTooLarge, stdout: [], stderr: stderr.bytes)
            }
        }
    }

    /// One pipe end we read: keeps the first `keep` bytes, discards the rest.
    struct Stream {
        let fd: Int32
        let keep: Int
        var bytes: [UInt8] = []
        var atEnd = false

        init(fd: Int32, keep: Int) {
            self.fd = fd
            self.keep = keep
        }

        /// Reads what is there without blocking (at most 1 MiB a call, so a writer faster than us
        /// cannot hold this loop), keeping up to `keep + 1` bytes.
        mutating func drain() {
            var buffer = [UInt8](repeating: 0, count: 16_384)
            var reads = 0
            while !atEnd, reads < 64 {
                // An error is EAGAIN: nothing more for now.
                guard let count = try? buffer.withUnsafeMutableBytes({ try POSIX.readSome(from: fd, into: $0) }) else {
                    return
                }
                if count > 0 {
                    reads += 1
                    bytes.append(contentsOf: buffer.prefix(min(count, keep + 1 - bytes.count)))
                } else {
                    atEnd = true
                }
            }
        }
    }

    static func killGroup(_ pid: pid_t) {
        _ = killpg(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    }

    static func end(of status: Int32) -> CredentialProcess.Outcome.End {
        status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }

    /// `pipe2(O_CLOEXEC)`, so no process spawned meanwhile by another thread inherits an end.
    /// Glibc's header declares it only for `_GNU_SOURCE`, hence the lookup.
    static func makePipe() throws(SpawnError) -> (read: Int32, write: Int32) {
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { throw SpawnError("pipe2", ENOSYS) }
        var fds: [Int32] = [-1, -1]
        guard unsafeBitCast(symbol, to: Pipe2.self)(&fds, O_CLOEXEC) == 0 else { throw SpawnError("pipe2", errno) }
        return (fds[0], fds[1])
    }

    /// Closes every descriptor from 3 up in the child, so a credential helper (and anything it
    /// leaves running) holds none of the daemon's sockets or pipes: a listening socket kept open
    /// by a helper's background child would accept connections nobody answers.
    /// `posix_spawn_file_actions_addclosefrom_np` is glibc 2.34+ and `_GNU_SOURCE`-only, hence the lookup.
    static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) throws(SpawnError) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw SpawnError("posix_spawn_file_actions_addclosefrom_np", ENOSYS)
        }
        let code = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        guard code == 0 else { throw SpawnError("posix_spawn_file_actions_addclosefrom_np", code) }
    }

    /// `posix_spawn` into a new process group (so the group can be killed), with default signal
    /// handling and an empty signal mask, standard input from /dev/null.
    static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], stdout: Int32, stderr: Int32
    ) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        try closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], envp + [nil])
        guard code == 0 else { throw SpawnError("posix_spawn", code) }
        return pid
    }
}
