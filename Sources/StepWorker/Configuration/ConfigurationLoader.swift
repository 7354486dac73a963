#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import POSIXSupport

/// Reads, parses and validates a configuration file, reporting every problem at once as
/// `FILE:LINE: key.path: message`.
public struct ConfigurationLoader: Sendable {
    public var host: any HostFacts

    public init(host: any HostFacts = SystemHostFacts()) {
        self.host = host
    }

    /// Loads `path`; throws `ConfigurationError` listing every problem.
    public func load(path: String) throws(ConfigurationError) -> Configuration {
        let bytes: [UInt8]
        switch FileContents.read(path) {
        case .success(let contents): bytes = contents
        case .failure(let failure):
            throw ConfigurationError(problems: [
                ConfigurationProblem(file: path, line: 0, keyPath: .root, message: "cannot read: \(failure.message)")
            ])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(problems: [
                ConfigurationProblem(file: path, line: 1, keyPath: .root, message: "not valid UTF-8 text")
            ])
        }
        return try load(text: text, file: path)
    }

    /// Validates TOML text as if read from `file` (used for messages and relative handler paths).
    public func load(text: String, file: String) throws(ConfigurationError) -> Configuration {
        let document: TOMLNode
        do {
            document = try TOMLDocument.parse(text)
        } catch {
            throw ConfigurationError(problems: [
                ConfigurationProblem(
                    file: file, line: error.line, keyPath: .root,
                    message: "TOML syntax error at column \(error.column): \(error.message.boundedPrefix())")
            ])
        }
        var problems = ProblemList()
        let raw = RawConfiguration.read(document, problems: &problems)
        var validator = ConfigurationValidator(file: file, host: host)
        let configuration = validator.validate(raw)
        let all = problems.problems + validator.problems.problems
        if let configuration, all.isEmpty { return configuration }

        let index = TOMLLineIndex(text: text)
        let located = all.enumerated().map { order, problem in
            (order, ConfigurationProblem(
                file: file, line: index.line(for: problem.keyPath), keyPath: problem.keyPath,
                message: problem.message))
        }
        let sorted = located.sorted { ($0.1.line, $0.0) < ($1.1.line, $1.0) }.map(\.1)
        throw ConfigurationError(problems: sorted)
    }
}

/// A whole file read with plain POSIX calls, so errors come back as errno text.
enum FileContents {
    struct Failure: Error {
        var message: String
    }

    static let limit = 16 << 20

    static func read(_ path: String) -> Result<[UInt8], Failure> {
        do throws(SystemCallError) {
            let contents = try POSIX.readFile(atPath: path, limit: limit)
            return contents.count > limit ? .failure(Failure(message: "larger than 16 MiB")) : .success(contents)
        } catch {
            return .failure(Failure(message: error.errnoText))
        }
    }
}
