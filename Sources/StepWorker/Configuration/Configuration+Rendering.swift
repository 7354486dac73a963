import Logging
extension Configuration {
    /// The effective configuration as TOML, every default written out; what `stepworker check`
    /// prints. Reading it back gives the same configuration.
    public func renderedTOML() -> String {
        var lines = ["# Effective configuration of \(file), defaults filled in.", "", "[aws]"]
        if let region = aws.region { lines.append("region = \(Self.quote(region))") }
        if let profile = aws.profile { lines.append("profile = \(Self.quote(profile))") }
        if let endpoint = aws.endpoint { lines.append("endpoint = \(Self.quote(endpoint))") }
        lines.append("use_fips = \(aws.useFIPS)")
        lines.append("use_dualstack = \(aws.useDualStack)")
        lines += [
            "", "[worker]",
            "name = \(Self.quote(worker.name))",
            "state_directory = \(Self.quote(worker.stateDirectory))",
            "shutdown_grace = \(Self.quote(DurationSyntax.render(worker.shutdownGrace)))",
            "log_level = \(Self.quote(worker.logLevel.rawValue))",
        ]
        if let metrics {
            let host = metrics.host.contains(":") ? "[\(metrics.host)]" : metrics.host
            lines += ["", "[metrics]", "listen = \(Self.quote("\(host):\(metrics.port)"))"]
        }
        for activity in activities {
            lines += ["", "[[activity]]"] + activity.renderedTOMLLines()
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string: JSON's string escapes are TOML's too, DEL included.
    static func quote(_ text: String) -> String {
        JSONText.encode(text)
    }
}

extension ActivityConfiguration {
    func renderedTOMLLines() -> [String] {
        let quote = Configuration.quote
        var lines = [
            "arn = \(quote(arn.description))",
            "name = \(quote(name))",
            "command = [\(command.map(quote).joined(separator: ", "))]  # runs \(executablePath)",
            "concurrency = \(concurrency)",
            "pollers = \(pollers)",
        ]
        if let timeout {
            lines.append("timeout = \(quote(DurationSyntax.render(timeout)))")
        } else {
            lines.append("# timeout: none")
        }
        lines.append("kill_grace = \(quote(DurationSyntax.render(killGrace)))")
        lines.append("heartbeat = \(quote(heartbeat.map(DurationSyntax.render) ?? "0s"))")
        lines.append("working_directory = \(quote(workingDirectory))")
        if let identity {
            if let user = identity.user { lines.append("user = \(quote(user))") }
            if let group = identity.group { lines.append("group = \(quote(group))") }
        }
        let environmentEntries = environment.sorted { $0.key < $1.key }
            .map { "\(ConfigKeyPath.render(key: $0.key)) = \(quote($0.value))" }
        lines.append("environment = { \(environmentEntries.joined(separator: ", ")) }")
        lines.append("output = \(quote(output.rawValue))")
        lines.append("max_output = \(ByteSizeSyntax.render(maxOutput))")
        let codes = exitCodes.sorted { $0.key < $1.key }.map { "\"\($0.key)\" = \(quote($0.value))" }
        lines.append("exit_codes = { \(codes.joined(separator: ", ")) }")
        lines.append("protocol = \(quote(handlerProtocol.rawValue))")
        if let maxTasksPerProcess { lines.append("max_tasks_per_process = \(maxTasksPerProcess)") }
        return lines
    }
}
