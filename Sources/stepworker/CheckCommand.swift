import ArgumentParser
import StepWorker

/// `stepworker check [--config FILE] [--quiet]`: validates the configuration and prints it with
/// every default filled in (nothing with `--quiet`); exit 78 (EX_CONFIG) with every problem on
/// stderr. The unit runs it before every start and reload, so a broken file fails
/// `systemctl start`/`reload` with the problems in the journal.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and print the effective configuration.")

    @OptionGroup var options: ConfigurationOptions

    @Flag(name: .long, help: "Print nothing when the configuration is valid.")
    var quiet = false

    func run() async throws {
        let configuration = try options.load()
        if !quiet { StandardStreams.writeOut(configuration.renderedTOML()) }
        // The daemon raises its soft limit to the hard one; a configuration that needs more runs
        // with fewer slots (DescriptorBudget.fitting). Said, not refused.
        let limit = DescriptorLimit.current().hard
        if let shortfall = DescriptorBudget(configuration).shortfall(limit: limit) {
            let running = DescriptorBudget.reductions(from: configuration, to: DescriptorBudget.fitting(configuration, limit: limit))
            StandardStreams.writeError("\(configuration.file): warning: \(shortfall); "
                + "the daemon would run \(running.joined(separator: "; "))\n")
        }
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
