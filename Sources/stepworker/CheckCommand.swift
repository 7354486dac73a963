import ArgumentParser
import StepWorker

/// `stepworker check [--config FILE]`: validates the configuration and prints it with every
/// default filled in; exit 78 (EX_CONFIG) with every problem on stderr.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and print the effective configuration.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        StandardStreams.writeOut(configuration.renderedTOML())
    }
}

/// `--config FILE`, shared by the commands that read the configuration.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: $STEPWORKER_CONFIG, else /etc/stepworker/stepworker.toml).")
    var config: String?

    /// The validated configuration, or every problem on stderr and exit 78.
    func load() throws -> Configuration {
        let path = ConfigurationDefaults.configurationPath(option: config, environment: ProcessEnvironment.current())
        do {
            return try ConfigurationLoader().load(path: path)
        } catch {
            StandardStreams.writeError(error.description + "\n")
            throw ExitCode(ExitStatus.configurationError)
        }
    }
}

enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    /// EX_CONFIG.
    static let configurationError: Int32 = 78
}
