import ArgumentParser
import Logging
import StepWorker

/// `stepworker invoke NAME [--config FILE] [--input FILE|-]`: runs one handler as the daemon
/// would, with no AWS, and prints the result it would send. Exit 0 on success, 1 on failure.
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Run an activity's handler once, locally, and print the result that would be sent.")

    @Argument(help: "The activity's name.")
    var name: String

    @OptionGroup var options: ConfigurationOptions

    @Option(name: .long, help: "The task input JSON: a file, or - for stdin (default: {}).")
    var input: String?

    func run() async throws {
        let configuration = try options.load()
        let inputBytes = try readInput()
        if let problem = JSONText.validationError(inputBytes) {
            StandardStreams.writeError("stepworker invoke: the input is not JSON: \(problem)\n")
            throw ExitCode(ExitStatus.usage)
        }
        var logger = Logger(label: "stepworker.handler") { _ in PlainLineLogHandler() }
        // Handler stderr lines are at info; the runner's debug lines (warm processes) are noise here.
        logger.logLevel = .info
        let result: TaskResult
        do {
            result = try await LocalInvocation(configuration: configuration, logger: logger)
                .run(activity: name, input: inputBytes, logger: logger)
        } catch {
            StandardStreams.writeError("stepworker invoke: \(error.description)\n")
            throw ExitCode(ExitStatus.usage)
        }
        StandardStreams.writeOut(LocalInvocation.report(result) + "\n")
        if case .failure = result { throw ExitCode(ExitStatus.failure) }
    }

    private func readInput() throws -> [UInt8] {
        guard let input else { return Array("{}".utf8) }
        switch StandardStreams.readAll(path: input == "-" ? nil : input) {
        case .success(let bytes): return bytes
        case .failure(let failure):
            StandardStreams.writeError("stepworker invoke: cannot read \(input): \(failure.message)\n")
            throw ExitCode(ExitStatus.usage)
        }
    }
}
