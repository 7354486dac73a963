import ArgumentParser

@main
struct StepworkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepworker",
        abstract: "Runs AWS Step Functions activity workers as a systemd service.",
        version: StepworkerVersion.string,
        subcommands: [RunCommand.self, CheckCommand.self, InvokeCommand.self, LocalEndpointCommand.self]
    )
}

enum StepworkerVersion {
    static let string = "0.1.0"
}
