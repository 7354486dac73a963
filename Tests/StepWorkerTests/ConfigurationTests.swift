import Foundation
import Logging
import StepWorker
import StepWorkerTestKit
import Testing

@Suite("Configuration: defaults, example, rendering")
struct ConfigurationTests {
    let minimal = """
        [[activity]]
        arn = "arn:aws:states:eu-west-1:123456789012:activity:resize-image"
        command = ["sh", "-c", "cat"]
        """

    @Test("defaults fill every key left out")
    func defaults() throws {
        let host = TestHostFacts(system: SystemHostFacts(environment: [:]), hostnameOverride: String(repeating: "h", count: 90))
        let configuration = try ConfigurationLoader(host: host).load(text: minimal, file: "/etc/stepworker/x.toml")
        #expect(configuration.aws == AWSSettings(region: nil, profile: nil, endpoint: nil, useFIPS: false, useDualStack: false))
        #expect(configuration.worker.name == String(repeating: "h", count: 80))
        #expect(configuration.worker.stateDirectory == "/var/lib/stepworker")
        #expect(configuration.worker.shutdownGrace == .seconds(120))
        #expect(configuration.worker.logLevel == .info)
        #expect(configuration.metrics == nil)
        let activity = try #require(configuration.activities.first)
        #expect(activity.name == "resize-image")
        #expect(activity.arn.region == "eu-west-1")
        #expect(activity.command == ["sh", "-c", "cat"])
        #expect(activity.executablePath.hasSuffix("/sh"))
        #expect(activity.concurrency == 1)
        #expect(activity.pollers == 1)
        #expect(activity.timeout == nil)
        #expect(activity.killGrace == .seconds(10))
        #expect(activity.heartbeat == .seconds(60))
        #expect(activity.workingDirectory == "/var/lib/stepworker")
        #expect(activity.identity == nil)
        #expect(activity.environment == [:])
        #expect(activity.output == .json)
        #expect(activity.maxOutput == 262_144)
        #expect(activity.exitCodes == [:])
    }

    @Test("STATE_DIRECTORY's first path is the default state directory")
    func stateDirectoryFromSystemd() throws {
        let host = TestHostFacts(system: SystemHostFacts(environment: ["STATE_DIRECTORY": "/var/lib/sw:/var/lib/other"]))
        let configuration = try ConfigurationLoader(host: host).load(text: minimal, file: "x.toml")
        #expect(configuration.worker.stateDirectory == "/var/lib/sw")
        #expect(configuration.activities[0].workingDirectory == "/var/lib/sw")
    }

    @Test("every key is read")
    func everyKey() throws {
        let toml = """
            [aws]
            region = "us-east-1"
            profile = "worker"
            endpoint = "http://127.0.0.1:8083"
            use_fips = true
            use_dualstack = true
            [worker]
            name = "w1"
            state_directory = "/srv/sw"
            shutdown_grace = 90
            log_level = "debug"
            [metrics]
            listen = "[::1]:9464"
            [[activity]]
            arn = "arn:aws-cn:states:cn-north-1:123456789012:activity:x"
            name = "ex"
            command = ["/bin/sh", "-c", "true"]
            concurrency = 8
            pollers = 2
            timeout = "1h30m"
            kill_grace = "500ms"
            heartbeat = "0s"
            working_directory = "/srv"
            user = "nobody"
            environment = { LANG = "C.UTF-8", "A B" = "c" }
            output = "text"
            max_output = "128KiB"
            exit_codes = { "75" = "X.Retry", 3 = "X.Three" }
            """
        let configuration = try ConfigurationLoader(host: TestHostFacts(root: true)).load(text: toml, file: "x.toml")
        #expect(configuration.aws == AWSSettings(region: "us-east-1", profile: "worker", endpoint: "http://127.0.0.1:8083", useFIPS: true, useDualStack: true))
        #expect(configuration.worker == WorkerSettings(name: "w1", stateDirectory: "/srv/sw", shutdownGrace: .seconds(90), logLevel: .debug))
        #expect(configuration.metrics == MetricsSettings(host: "::1", port: 9464))
        let activity = configuration.activities[0]
        #expect(activity.arn.partition == "aws-cn")
        #expect(activity.name == "ex")
        #expect(activity.concurrency == 8 && activity.pollers == 2)
        #expect(activity.timeout == .seconds(5400))
        #expect(activity.killGrace == .milliseconds(500))
        #expect(activity.heartbeat == nil)
        #expect(activity.workingDirectory == "/srv")
        #expect(activity.identity?.userID == 65534)
        // Looked up once, here; the handlers' HOME (getpwnam is not for concurrent tasks).
        #expect(activity.identity?.home == SystemHostFacts(environment: [:]).user(named: "nobody")?.home)
        #expect(activity.identity?.home?.isEmpty == false)
        #expect(HandlerEnvironment.build(
            activity: activity, workerName: "w", taskID: "t", deadline: nil, daemonEnvironment: ["HOME": "/root"])["HOME"] == activity.identity?.home)
        #expect(activity.environment == ["LANG": "C.UTF-8", "A B": "c"])
        #expect(activity.output == .text)
        #expect(activity.maxOutput == 131_072)
        #expect(activity.exitCodes == [75: "X.Retry", 3: "X.Three"])

        // What `check` prints reads back to the same configuration.
        let again = try ConfigurationLoader(host: TestHostFacts(root: true)).load(text: configuration.renderedTOML(), file: "x.toml")
        #expect(again == configuration)
    }

    @Test("the shipped example loads and validates")
    func shippedExample() throws {
        let path = RepositoryPaths.root + "/etc/stepworker/stepworker.toml"
        let configuration = try ConfigurationLoader(host: TestHostFacts()).load(path: path)
        #expect(configuration.activities.map(\.name) == ["echo", "resize-image"])
        #expect(configuration.activities[0].executablePath.hasSuffix("/examples/handlers/echo.sh"))
        #expect(configuration.activities[1].command.count == 3)
        let rendered = try ConfigurationLoader(host: TestHostFacts()).load(text: configuration.renderedTOML(), file: path)
        #expect(rendered == configuration)
    }

    @Test("the example's commented warm activity loads once uncommented, and renders back the same")
    func shippedWarmExample() throws {
        let path = RepositoryPaths.root + "/etc/stepworker/stepworker.toml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let block = text.components(separatedBy: "\n# [[activity]]\n")[1]
            .split(separator: "\n").map { String($0.dropFirst(2)) }.joined(separator: "\n")
        // The venv's python is not on this machine; any executable stands in for it.
        let toml = "[[activity]]\n" + block.replacingOccurrences(of: "/opt/thumbs/venv/bin/python", with: "/bin/sh")
        let configuration = try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: path)
        let warm = try #require(configuration.activities.first)
        #expect(warm.name == "thumbnail")
        #expect(warm.handlerProtocol == .lambda)
        #expect(warm.maxTasksPerProcess == 1000)
        #expect(warm.concurrency == 8)
        #expect(configuration.renderedTOML().contains("protocol = \"lambda\"\nmax_tasks_per_process = 1000"))
        #expect(try ConfigurationLoader(host: TestHostFacts()).load(text: configuration.renderedTOML(), file: path) == configuration)
    }

    @Test("the config path: --config, else $STEPWORKER_CONFIG, else /etc/stepworker/stepworker.toml")
    func configurationPath() {
        #expect(ConfigurationDefaults.configurationPath(option: "a.toml", environment: ["STEPWORKER_CONFIG": "b"]) == "a.toml")
        #expect(ConfigurationDefaults.configurationPath(option: nil, environment: ["STEPWORKER_CONFIG": "b"]) == "b")
        #expect(ConfigurationDefaults.configurationPath(option: nil, environment: [:]) == "/etc/stepworker/stepworker.toml")
    }

    @Test("did-you-mean suggests the closest key, and nothing for a stranger")
    func didYouMean() throws {
        let toml = minimal + "\nworking_dir = \"/tmp\"\nxyzzy = 1\nOUTPUT = \"json\"\n"
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: "f")
        }
        #expect(error.problems.map(\.message) == [
            "unknown key; did you mean 'working_directory'?",
            "unknown key",
            "unknown key; did you mean 'output'?",
        ])
    }
}

@Suite("Durations and sizes")
struct DurationAndSizeTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("15m", .seconds(900)),
        ("1h30m", .seconds(5400)), ("0s", .zero), ("1h2m3s4ms", .milliseconds(3_723_004)),
    ])
    func durations(text: String, expected: Duration) {
        #expect(DurationSyntax.parse(text) == expected)
        #expect(DurationSyntax.parse(DurationSyntax.render(expected)) == expected)
    }

    @Test(arguments: ["", "s", "10", "1.5s", "-1s", "10 s", "1d", "1s1s", "1H"])
    func badDurations(text: String) {
        #expect(DurationSyntax.parse(text) == nil)
    }

    @Test(arguments: [("256KiB", 262_144), ("1MiB", 1_048_576), ("100", 100), ("10B", 10), ("2kB", 2000), ("1GiB", 1 << 30)])
    func sizes(text: String, expected: Int) {
        #expect(ByteSizeSyntax.parse(text) == expected)
    }

    @Test(arguments: ["", "KiB", "1.5MiB", "-1", "1 TiB", "1kib", "99999999999999999999"])
    func badSizes(text: String) {
        #expect(ByteSizeSyntax.parse(text) == nil)
    }

    /// A name no user or group can have is not looked up: systemd's NSS module asserted on a
    /// 1 MB one (`_nn_ <= ALLOCA_MAX`) and aborted the process, so a `user` value in the
    /// configuration brought down `stepworker check` and the daemon at reload.
    @Test func aHugeUserOrGroupNameIsNoUserRatherThanACrash() {
        let host = SystemHostFacts(environment: [:])
        let huge = String(repeating: "u", count: 1 << 20)
        #expect(host.user(named: huge) == nil)
        #expect(host.group(named: huge) == nil)
        #expect(host.groups(ofUser: huge, primaryGroup: 7) == [7])
        #expect(host.user(named: "root")?.userID == 0)
        #expect(host.user(named: "ro\0ot") == nil)
    }
}
