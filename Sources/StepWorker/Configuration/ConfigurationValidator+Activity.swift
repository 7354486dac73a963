import FoundationEssentials
import POSIXSupport
import StepFunctions

extension ConfigurationValidator {
    /// Validates one `[[activity]]`; returns nil when it has a problem that leaves nothing usable.
    mutating func validateActivity(_ raw: RawConfiguration.Activity, stateDirectory: String) -> ActivityConfiguration? {
        let path = raw.path
        let problemsBefore = problems.problems.count

        var arn: ActivityARN?
        if let text = raw.arn {
            arn = ActivityARN(text)
            if arn == nil {
                problems.add(
                    path.appending("arn"),
                    "malformed activity ARN \"\(text.boundedPrefix())\" (expected arn:<partition>:states:<region>:<12-digit account>:activity:<name>)")
            }
        } else {
            problems.add(path.appending("arn"), "missing (every [[activity]] needs its activity ARN)")
        }

        let name = raw.name ?? arn?.name ?? ""
        if let given = raw.name, given.isEmpty || given.count > 80 || given.contains(where: { $0.isWhitespace }) {
            problems.add(path.appending("name"), "must be 1 to 80 characters without spaces, got \"\(given.boundedPrefix())\"")
        }

        let executablePath = validateCommand(
            raw.command, present: raw.presentKeys.contains("command"), at: path.appending("command"))

        let concurrency = raw.concurrency ?? ConfigurationDefaults.concurrency
        let concurrencyRange = ConfigurationDefaults.concurrencyRange
        if !concurrencyRange.contains(concurrency) {
            problems.add(
                path.appending("concurrency"),
                "must be between \(concurrencyRange.lowerBound) and \(concurrencyRange.upperBound), got \(concurrency)")
        }
        let pollers = raw.pollers ?? concurrency
        if raw.pollers != nil, !(1...max(1, concurrency)).contains(pollers) {
            problems.add(path.appending("pollers"), "must be between 1 and concurrency (\(concurrency)), got \(pollers)")
        }

        if let timeout = raw.timeout, timeout <= .zero {
            problems.add(path.appending("timeout"), "must be greater than 0 (leave it out for no timeout)")
        }
        let killGrace = raw.killGrace ?? ConfigurationDefaults.killGrace
        if killGrace <= .zero {
            problems.add(path.appending("kill_grace"), "must be greater than 0")
        }
        let heartbeat = raw.heartbeat ?? ConfigurationDefaults.heartbeat

        let workingDirectory = raw.workingDirectory ?? stateDirectory
        if raw.workingDirectory != nil, !workingDirectory.hasPrefix("/") {
            problems.add(path.appending("working_directory"), "must be an absolute path, got \"\(workingDirectory.boundedPrefix())\"")
        }

        let identity = validateIdentity(user: raw.user, group: raw.group, at: path)
        let environment = validateEnvironment(raw.environment ?? [], at: path.appending("environment"))

        var output = ConfigurationDefaults.output
        if let text = raw.output {
            if let mode = OutputMode(rawValue: text) {
                output = mode
            } else {
                problems.add(path.appending("output"), "must be \"json\" or \"text\", got \"\(text.boundedPrefix())\"")
            }
        }
        let maxOutput = raw.maxOutput ?? ConfigurationDefaults.maxOutput
        if !(1...TaskLimits.maxPayloadBytes).contains(maxOutput) {
            problems.add(
                path.appending("max_output"),
                "must be between 1 and \(TaskLimits.maxPayloadBytes) bytes (the service limit), got \(maxOutput)")
        }
        let exitCodes = validateExitCodes(raw.exitCodes ?? [], at: path.appending("exit_codes"))
        let (handlerProtocol, maxTasksPerProcess) = validateProtocol(raw, at: path)

        guard problems.problems.count == problemsBefore, let arn, let command = raw.command, let executablePath else {
            return nil
        }
        return ActivityConfiguration(
            arn: arn, name: name, command: command, executablePath: executablePath,
            concurrency: concurrency, pollers: pollers, timeout: raw.timeout, killGrace: killGrace,
            heartbeat: heartbeat > .zero ? heartbeat : nil, workingDirectory: workingDirectory,
            identity: identity, environment: environment, output: output, maxOutput: maxOutput,
            exitCodes: exitCodes, handlerProtocol: handlerProtocol, maxTasksPerProcess: maxTasksPerProcess)
    }

    /// `protocol` and `max_tasks_per_process`, which only a warm (`lambda`) handler can use.
    private mutating func validateProtocol(_ raw: RawConfiguration.Activity, at path: ConfigKeyPath) -> (HandlerProtocol, Int?) {
        var handlerProtocol = HandlerProtocol.stdio
        if let text = raw.handlerProtocol {
            if let known = HandlerProtocol(rawValue: text) {
                handlerProtocol = known
            } else {
                let suggestion = HandlerProtocol.allCases.map(\.rawValue).min { EditDistance.distance(text, $0) < EditDistance.distance(text, $1) }
                let hint = suggestion.map { EditDistance.distance(text, $0) <= 2 ? " (did you mean \"\($0)\"?)" : "" } ?? ""
                problems.add(path.appending("protocol"), "must be \"stdio\" or \"lambda\", got \"\(text.boundedPrefix())\"\(hint)")
            }
        }
        guard let limit = raw.maxTasksPerProcess else { return (handlerProtocol, nil) }
        if handlerProtocol != .lambda {
            problems.add(
                path.appending("max_tasks_per_process"),
                "only applies to protocol = \"lambda\" (a stdio handler is one process per task)")
        } else if limit < 1 {
            problems.add(path.appending("max_tasks_per_process"), "must be at least 1 (leave it out for no limit), got \(limit)")
        }
        return (handlerProtocol, limit)
    }

    /// Checks `command` and returns the file `command[0]` names, when it can run.
    private mutating func validateCommand(_ command: [String]?, present: Bool, at path: ConfigKeyPath) -> String? {
        guard let command else {
            // Present but of the wrong type: already reported.
            if !present { problems.add(path, "missing (the handler's argv, e.g. [\"/usr/libexec/stepworker/handler\"])") }
            return nil
        }
        guard let program = command.first, !program.isEmpty else {
            problems.add(path, "must name the handler to run; got an empty command")
            return nil
        }
        let first = path.appending(index: 0)
        let resolved: String
        if program.contains("/") {
            resolved = program.hasPrefix("/") ? program : Self.directory(of: file) + "/" + program
        } else {
            guard let found = ExecutableLookup.find(program, in: ConfigurationDefaults.handlerPath, host: host) else {
                problems.add(first, "\"\(program.boundedPrefix())\" not found on the handlers' PATH \(ConfigurationDefaults.handlerPath)")
                return nil
            }
            resolved = found
        }
        switch host.fileStatus(resolved) {
        case .executable: return resolved
        case .missing: problems.add(first, "\(resolved.boundedPrefix()) does not exist")
        case .directory: problems.add(first, "\(resolved.boundedPrefix()) is a directory")
        case .notExecutable: problems.add(first, "\(resolved.boundedPrefix()) is not executable")
        }
        return nil
    }

    /// The absolute directory of `file`: handlers start in their own `working_directory`, so a
    /// path relative to where the daemon was started would not find them.
    static func directory(of file: String, currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let absolute = file.hasPrefix("/") ? file : currentDirectory + "/" + file
        return URL(fileURLWithPath: absolute).standardized.deletingLastPathComponent().path
    }

    private mutating func validateIdentity(user: String?, group: String?, at path: ConfigKeyPath) -> HandlerIdentity? {
        guard user != nil || group != nil else { return nil }
        if !host.isRoot {
            if user != nil { problems.add(path.appending("user"), "needs the daemon to run as root") }
            if group != nil { problems.add(path.appending("group"), "needs the daemon to run as root") }
            return nil
        }
        var userEntry: (userID: UInt32, groupID: UInt32, home: String?)?
        if let user {
            userEntry = host.user(named: user)
            if userEntry == nil { problems.add(path.appending("user"), "unknown user \"\(user.boundedPrefix())\"") }
        }
        var groupID: UInt32?
        if let group {
            groupID = host.group(named: group)
            if groupID == nil { problems.add(path.appending("group"), "unknown group \"\(group.boundedPrefix())\"") }
        }
        if (user != nil && userEntry == nil) || (group != nil && groupID == nil) { return nil }
        let primary = groupID ?? userEntry?.groupID ?? 0
        let supplementary = user.map { host.groups(ofUser: $0, primaryGroup: primary) } ?? [primary]
        return HandlerIdentity(
            user: user, group: group, userID: userEntry?.userID, groupID: primary, supplementaryGroups: supplementary,
            home: userEntry?.home)
    }

    private mutating func validateEnvironment(
        _ entries: [(key: String, value: String)], at path: ConfigKeyPath
    ) -> [String: String] {
        var environment: [String: String] = [:]
        for (key, value) in entries {
            if key.isEmpty || key.contains("=") || key.contains("\0") {
                problems.add(path.appending(key), "is not a valid environment variable name")
            } else if key.hasPrefix("STEPWORKER_") {
                problems.add(path.appending(key), "is set by the worker and cannot be configured")
            } else if value.contains("\0") {
                problems.add(path.appending(key), "must not contain a NUL character")
            } else {
                environment[key] = value
            }
        }
        return environment
    }

    private mutating func validateExitCodes(
        _ entries: [(key: String, value: String)], at path: ConfigKeyPath
    ) -> [Int32: String] {
        var codes: [Int32: String] = [:]
        let range = ConfigurationDefaults.exitCodeRange
        for (key, name) in entries {
            guard key.allSatisfy({ $0.isASCII && $0.isNumber }), key.count <= 3, let code = Int32(key),
                range.contains(Int(code))
            else {
                problems.add(path.appending(key), "exit status must be an integer from 1 to 255, got \"\(key.boundedPrefix())\"")
                continue
            }
            guard !name.isEmpty, name.count <= ConfigurationDefaults.maxErrorNameLength else {
                problems.add(path.appending(key), "error name must be 1 to 256 characters long, got \(name.count)")
                continue
            }
            codes[code] = name
        }
        return codes
    }
}

/// Finds a bare program name on a PATH, as `execvp` would.
public enum ExecutableLookup {
    public static func find(_ program: String, in searchPath: String, host: any HostFacts) -> String? {
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + program
            if host.fileStatus(candidate) == .executable { return candidate }
        }
        return nil
    }
}
