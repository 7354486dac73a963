#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import Dispatch
import FoundationEssentials
import Logging
import POSIXSupport
import StepFunctions
import StepFunctionsLocal

/// `stepworker local-endpoint`: serves a local Step Functions activity endpoint until SIGINT or
/// SIGTERM. Prints `listening on http://HOST:PORT` on stdout once ready.
struct LocalEndpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-endpoint",
        abstract: "Serves a local Step Functions activity endpoint for development, demos and tests."
    )

    @Option(help: "HOST:PORT to listen on; port 0 lets the OS choose.")
    var listen = "127.0.0.1:8083"

    @Option(help: "The region of activity ARNs, and the one requests must be signed for.")
    var region = "us-east-1"

    @Option(help: "The account ID of activity ARNs.")
    var account = "123456789012"

    @Option(name: .customLong("access-key"), help: "Require SigV4 signatures made with this access key ID.")
    var accessKey: String?

    @Option(name: .customLong("secret-key"), help: "The secret key that goes with --access-key.")
    var secretKey: String?

    @Option(name: .customLong("activity"), help: "Create this activity at start (repeatable).")
    var activities: [String] = []

    @Option(name: .customLong("poll-seconds"), help: "How long GetActivityTask waits for a task.")
    var pollSeconds: Double = 60

    @Option(name: .customLong("max-open-polls"), help: "Open polls allowed per activity.")
    var maxOpenPolls = 1000

    @Option(
        name: .customLong("rate-limit"),
        help: "The account's quota as token buckets, OPERATION=BURST/REFILL per second, comma-separated (GetActivityTask=120/20,SendTaskHeartbeat=120/20); a call that finds its bucket empty is answered ThrottlingException.")
    var rateLimit: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical; requests are logged at debug.")
    var logLevel = "info"

    func validate() throws {
        if (accessKey == nil) != (secretKey == nil) {
            throw ValidationError("--access-key and --secret-key go together.")
        }
        if Self.parseListen(listen) == nil { throw ValidationError("--listen must be HOST:PORT, not '\(listen)'.") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("Unknown --log-level '\(logLevel)'.") }
        if !(pollSeconds > 0) { throw ValidationError("--poll-seconds must be greater than 0.") }
        if maxOpenPolls < 1 { throw ValidationError("--max-open-polls must be at least 1.") }
        if let rateLimit {
            do { _ = try RateLimit.parse(rateLimit) } catch { throw ValidationError("--rate-limit: \(error)") }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        guard let address = Self.parseListen(listen) else { throw ExitCode(64) }
        let (host, port) = address
        var credentials: AWSCredentials?
        if let accessKey, let secretKey {
            credentials = AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey)
        }
        let configuration = LocalEndpointConfiguration(
            host: host, port: port, region: region, accountID: account, credentials: credentials,
            pollDuration: .milliseconds(Int64(pollSeconds * 1000)), maxOpenPollsPerActivity: maxOpenPolls,
            activities: activities, rateLimits: try rateLimit.map { try RateLimit.parse($0) } ?? [:])
        let server: LocalEndpointServer
        do {
            server = try await LocalEndpointServer.start(configuration, logger: Logger(label: "stepworker.local-endpoint"))
        } catch let error as LocalServiceError {
            throw ValidationError("--activity: \(error.message)")
        }
        try? POSIX.writeAll("listening on http://\(server.host):\(server.port)\n", to: STDOUT_FILENO)
        await Self.waitForTerminationSignal()
        await server.shutdown()
    }

    /// `HOST:PORT` or `[IPv6]:PORT`.
    static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// Returns at the first SIGINT or SIGTERM.
    static func waitForTerminationSignal() async {
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in signals { break }
        for source in sources { source.cancel() }
    }
}
