import Foundation
import StepWorker
import StepWorkerTestKit
import Testing

/// One malformed file and the problem it must produce: exact line, exact key path, and a part
/// of the message.
struct MalformedFile: CustomTestStringConvertible, Sendable {
    var label: String
    var toml: String
    var line: Int
    var keyPath: String
    var message: String
    var root = true

    var testDescription: String { label }
}

private let arn = #"arn = "arn:aws:states:eu-west-1:123456789012:activity:a""#
/// Lines 1-3 of most cases; the line under test is line 4.
private let activity = "[[activity]]\n\(arn)\ncommand = [\"/bin/sh\"]\n"

private let cases: [MalformedFile] = [
    .init(label: "syntax error", toml: "[aws\nregion = \"x\"\n", line: 1, keyPath: "", message: "TOML syntax error"),
    .init(label: "syntax error later", toml: activity + "concurrency = = 4\n", line: 4, keyPath: "", message: "TOML syntax error"),
    .init(label: "unknown table", toml: "[wroker]\nname = \"x\"\n" + activity, line: 1, keyPath: "wroker", message: "did you mean 'worker'"),
    .init(label: "unknown aws key", toml: "[aws]\nregoin = \"eu-west-1\"\n" + activity, line: 2, keyPath: "aws.regoin", message: "did you mean 'region'"),
    .init(label: "use_fips not a boolean", toml: "[aws]\nuse_fips = \"yes\"\n" + activity, line: 2, keyPath: "aws.use_fips", message: "expected a boolean"),
    .init(label: "malformed region", toml: "[aws]\n\nregion = \"EU West\"\n" + activity, line: 3, keyPath: "aws.region", message: "malformed region"),
    .init(label: "endpoint not a URL", toml: "[aws]\nendpoint = \"ftp://x\"\n" + activity, line: 2, keyPath: "aws.endpoint", message: "http:// or https://"),
    .init(label: "worker name too long", toml: "[worker]\nname = \"\(String(repeating: "w", count: 81))\"\n" + activity, line: 2, keyPath: "worker.name", message: "must be 1 to 80 characters long, got 81"),
    .init(label: "unknown log level", toml: "[worker]\nlog_level = \"verbose\"\n" + activity, line: 2, keyPath: "worker.log_level", message: "must be one of trace, debug, info, notice, warning, error, critical"),
    .init(label: "bad shutdown_grace", toml: "[worker]\nshutdown_grace = \"2 minutes\"\n" + activity, line: 2, keyPath: "worker.shutdown_grace", message: "expected a duration"),
    .init(label: "relative state_directory", toml: "[worker]\nstate_directory = \"state\"\n" + activity, line: 2, keyPath: "worker.state_directory", message: "must be an absolute path"),
    .init(label: "listen without port", toml: activity + "[metrics]\nlisten = \"9464\"\n", line: 5, keyPath: "metrics.listen", message: "expected host:port"),
    .init(label: "listen port out of range", toml: activity + "[metrics]\nlisten = \"localhost:99999\"\n", line: 5, keyPath: "metrics.listen", message: "expected host:port"),
    .init(label: "no activity", toml: "[worker]\nname = \"w\"\n", line: 1, keyPath: "activity", message: "at least one [[activity]] is required"),
    .init(label: "activity as a table", toml: "[activity]\narn = \"x\"\n", line: 1, keyPath: "activity", message: "expected an array of tables"),
    .init(label: "missing arn", toml: "\n[[activity]]\ncommand = [\"/bin/sh\"]\n", line: 2, keyPath: "activity[0].arn", message: "missing"),
    .init(label: "short account in ARN", toml: "[[activity]]\narn = \"arn:aws:states:eu-west-1:12345678901:activity:a\"\ncommand = [\"/bin/sh\"]\n", line: 2, keyPath: "activity[0].arn", message: "malformed activity ARN"),
    .init(label: "ARN of another service", toml: "[[activity]]\ncommand = [\"/bin/sh\"]\narn = \"arn:aws:lambda:eu-west-1:123456789012:function:a\"\n", line: 3, keyPath: "activity[0].arn", message: "malformed activity ARN"),
    .init(label: "unknown protocol", toml: activity + "protocol = \"lamda\"\n", line: 4, keyPath: "activity[0].protocol", message: "must be \"stdio\" or \"lambda\", got \"lamda\" (did you mean \"lambda\"?)"),
    .init(label: "protocol not a string", toml: activity + "protocol = 1\n", line: 4, keyPath: "activity[0].protocol", message: "expected a string"),
    .init(label: "max_tasks_per_process on stdio", toml: activity + "max_tasks_per_process = 10\n", line: 4, keyPath: "activity[0].max_tasks_per_process", message: "only applies to protocol = \"lambda\""),
    .init(label: "max_tasks_per_process 0", toml: activity + "protocol = \"lambda\"\nmax_tasks_per_process = 0\n", line: 5, keyPath: "activity[0].max_tasks_per_process", message: "must be at least 1"),
    .init(label: "concurrency 0", toml: activity + "concurrency = 0\n", line: 4, keyPath: "activity[0].concurrency", message: "must be between 1 and 1000, got 0"),
    .init(label: "concurrency 1001", toml: activity + "concurrency = 1001\n", line: 4, keyPath: "activity[0].concurrency", message: "must be between 1 and 1000, got 1001"),
    .init(label: "concurrency as a string", toml: activity + "concurrency = \"4\"\n", line: 4, keyPath: "activity[0].concurrency", message: "expected an integer, got a string"),
    .init(label: "pollers above concurrency", toml: activity + "concurrency = 4\npollers = 5\n", line: 5, keyPath: "activity[0].pollers", message: "must be between 1 and concurrency (4), got 5"),
    .init(label: "zero timeout", toml: activity + "timeout = \"0s\"\n", line: 4, keyPath: "activity[0].timeout", message: "must be greater than 0"),
    .init(label: "unknown duration unit", toml: activity + "timeout = \"15x\"\n", line: 4, keyPath: "activity[0].timeout", message: "expected a duration"),
    .init(label: "timeout of integer seconds past a year", toml: activity + "timeout = 10000000000000000\n", line: 4, keyPath: "activity[0].timeout", message: "must be at most 366 days"),
    .init(label: "kill_grace string past a year", toml: activity + "kill_grace = \"999999999999h\"\n", line: 4, keyPath: "activity[0].kill_grace", message: "must be at most 366 days"),
    .init(label: "shutdown_grace past a year", toml: "[worker]\nshutdown_grace = 40000000\n" + activity, line: 2, keyPath: "worker.shutdown_grace", message: "must be at most 366 days"),
    .init(label: "zero kill_grace", toml: activity + "kill_grace = 0\n", line: 4, keyPath: "activity[0].kill_grace", message: "must be greater than 0"),
    .init(label: "negative heartbeat", toml: activity + "heartbeat = -5\n", line: 4, keyPath: "activity[0].heartbeat", message: "must not be negative"),
    .init(label: "empty command", toml: "[[activity]]\n\(arn)\ncommand = []\n", line: 3, keyPath: "activity[0].command", message: "empty command"),
    .init(label: "command as a string", toml: "[[activity]]\n\(arn)\ncommand = \"/bin/sh\"\n", line: 3, keyPath: "activity[0].command", message: "expected an array of strings"),
    .init(label: "command with a number", toml: "[[activity]]\n\(arn)\ncommand = [\"/bin/sh\", 3]\n", line: 3, keyPath: "activity[0].command[1]", message: "expected a string, got an integer"),
    .init(label: "missing handler", toml: "[[activity]]\n\(arn)\ncommand = [\"/nonexistent/handler\"]\n", line: 3, keyPath: "activity[0].command[0]", message: "/nonexistent/handler does not exist"),
    .init(label: "handler not executable", toml: "[[activity]]\n\(arn)\ncommand = [\"/etc/passwd\"]\n", line: 3, keyPath: "activity[0].command[0]", message: "/etc/passwd is not executable"),
    .init(label: "handler is a directory", toml: "[[activity]]\n\(arn)\ncommand = [\"/tmp\"]\n", line: 3, keyPath: "activity[0].command[0]", message: "/tmp is a directory"),
    .init(label: "bare name not on PATH", toml: "[[activity]]\n\(arn)\ncommand = [\"no-such-program-xyz\"]\n", line: 3, keyPath: "activity[0].command[0]", message: "not found on the handlers' PATH /usr/local/bin:/usr/bin:/bin"),
    .init(label: "multi-line command", toml: "[[activity]]\n\(arn)\ncommand = [\n  \"/bin/sh\",\n  \"-c\",\n]\nconcurrency = 0\n", line: 7, keyPath: "activity[0].concurrency", message: "got 0"),
    .init(label: "unknown user", toml: activity + "user = \"no-such-user-xyz\"\n", line: 4, keyPath: "activity[0].user", message: "unknown user \"no-such-user-xyz\""),
    .init(label: "unknown group", toml: activity + "group = \"no-such-group-xyz\"\n", line: 4, keyPath: "activity[0].group", message: "unknown group \"no-such-group-xyz\""),
    .init(label: "user when not root", toml: activity + "user = \"nobody\"\n", line: 4, keyPath: "activity[0].user", message: "needs the daemon to run as root", root: false),
    .init(label: "group when not root", toml: activity + "\ngroup = \"nogroup\"\n", line: 5, keyPath: "activity[0].group", message: "needs the daemon to run as root", root: false),
    .init(label: "unknown output mode", toml: activity + "output = \"yaml\"\n", line: 4, keyPath: "activity[0].output", message: "must be \"json\" or \"text\", got \"yaml\""),
    .init(label: "max_output over the limit", toml: activity + "max_output = \"1MiB\"\n", line: 4, keyPath: "activity[0].max_output", message: "must be between 1 and 262144 bytes (the service limit), got 1048576"),
    .init(label: "max_output malformed", toml: activity + "max_output = \"12 parsecs\"\n", line: 4, keyPath: "activity[0].max_output", message: "expected a size"),
    .init(label: "exit code 0", toml: activity + "exit_codes = { \"0\" = \"X\" }\n", line: 4, keyPath: "activity[0].exit_codes.0", message: "exit status must be an integer from 1 to 255, got \"0\""),
    .init(label: "exit code not a number", toml: activity + "exit_codes = { \"abc\" = \"X\" }\n", line: 4, keyPath: "activity[0].exit_codes.abc", message: "exit status must be an integer"),
    .init(label: "exit code 256", toml: activity + "exit_codes = { \"256\" = \"X\" }\n", line: 4, keyPath: "activity[0].exit_codes.256", message: "got \"256\""),
    .init(label: "empty error name", toml: activity + "exit_codes = { \"75\" = \"\" }\n", line: 4, keyPath: "activity[0].exit_codes.75", message: "error name must be 1 to 256 characters long, got 0"),
    .init(label: "error name too long", toml: activity + "exit_codes = { \"75\" = \"\(String(repeating: "e", count: 257))\" }\n", line: 4, keyPath: "activity[0].exit_codes.75", message: "got 257"),
    .init(label: "error name not a string", toml: activity + "exit_codes = { \"75\" = 3 }\n", line: 4, keyPath: "activity[0].exit_codes.75", message: "expected a string, got an integer"),
    .init(label: "reserved environment name", toml: activity + "environment = { STEPWORKER_TASK_ID = \"x\" }\n", line: 4, keyPath: "activity[0].environment.STEPWORKER_TASK_ID", message: "set by the worker"),
    .init(label: "environment value not a string", toml: activity + "environment = { A = \"b\", N = 1 }\n", line: 4, keyPath: "activity[0].environment.N", message: "expected a string"),
    .init(label: "environment as a sub-table", toml: activity + "[activity.environment]\nA = \"b\"\nN = true\n", line: 6, keyPath: "activity[0].environment.N", message: "expected a string, got a boolean"),
    .init(label: "unknown activity key", toml: activity + "concurency = 4\n", line: 4, keyPath: "activity[0].concurency", message: "unknown key; did you mean 'concurrency'?"),
    .init(label: "relative working_directory", toml: activity + "working_directory = \"work\"\n", line: 4, keyPath: "activity[0].working_directory", message: "must be an absolute path"),
    .init(label: "name with a space", toml: activity + "name = \"has space\"\n", line: 4, keyPath: "activity[0].name", message: "without spaces"),
    .init(label: "error in the second activity", toml: activity + "\n" + activity + "name = \"b\"\nconcurrency = 0\n", line: 9, keyPath: "activity[1].concurrency", message: "got 0"),
    .init(label: "duplicate default names", toml: activity + "\n" + activity.replacingOccurrences(of: "eu-west-1", with: "us-east-1"), line: 5, keyPath: "activity[1].name", message: "duplicate name \"a\" (also activity[0])"),
    .init(label: "duplicate ARNs", toml: activity + "name = \"one\"\n" + activity + "name = \"two\"\n", line: 6, keyPath: "activity[1].arn", message: "duplicate ARN (also activity[0])"),
]

@Suite("Configuration errors: file, line, key path")
struct ConfigurationErrorTests {
    @Test("a malformed file is reported at its line and key path", arguments: cases)
    func malformed(_ file: MalformedFile) throws {
        let loader = ConfigurationLoader(host: TestHostFacts(root: file.root))
        let error = try #require(throws: ConfigurationError.self) {
            try loader.load(text: file.toml, file: "/etc/stepworker/test.toml")
        }
        #expect(error.problems.count == 1, "\(error.description)")
        let problem = try #require(error.problems.first)
        #expect(problem.line == file.line, "\(problem)")
        #expect(problem.keyPath.description == file.keyPath, "\(problem)")
        #expect(problem.message.contains(file.message), "\(problem)")
        let prefix = file.keyPath.isEmpty
            ? "/etc/stepworker/test.toml:\(file.line): "
            : "/etc/stepworker/test.toml:\(file.line): \(file.keyPath): "
        #expect(problem.description.hasPrefix(prefix), "\(problem)")
    }

    @Test("there are at least 30 malformed files")
    func enoughCases() {
        #expect(cases.count >= 30)
    }

    @Test("every problem is reported at once, in line order")
    func severalAtOnce() throws {
        let toml = """
            [worker]
            log_level = "loud"
            [[activity]]
            arn = "arn:aws:states:eu-west-1:123456789012:activity:a"
            command = ["/bin/sh"]
            concurrency = 0
            timout = "1m"
            [[activity]]
            arn = "not an arn"
            command = []
            """
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: "f.toml")
        }
        #expect(error.description == """
            f.toml:2: worker.log_level: must be one of trace, debug, info, notice, warning, error, critical, got "loud"
            f.toml:6: activity[0].concurrency: must be between 1 and 1000, got 0
            f.toml:7: activity[0].timout: unknown key; did you mean 'timeout'?
            f.toml:9: activity[1].arn: malformed activity ARN "not an arn" (expected arn:<partition>:states:<region>:<12-digit account>:activity:<name>)
            f.toml:10: activity[1].command: must name the handler to run; got an empty command
            """)
    }

    @Test("an unreadable file is one problem naming the file")
    func unreadable() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader(host: TestHostFacts()).load(path: "/nonexistent/stepworker.toml")
        }
        #expect(error.description == "/nonexistent/stepworker.toml: cannot read: No such file or directory")
    }
}
