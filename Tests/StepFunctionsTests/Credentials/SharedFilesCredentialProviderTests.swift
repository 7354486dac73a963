import Foundation
import Logging
import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct SharedFilesCredentialProviderTests {
    func load(profile: String? = nil, _ environment: [String: String]) async throws -> AWSCredentials {
        try await withHTTPClient { client in
            try await SharedFilesCredentialProvider(
                profile: profile, environment: environment, httpClient: client, logger: Logger(label: "test")
            ).credentials()
        }
    }

    @Test func defaultProfileFromCredentialsFileUnderHome() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = secret\naws_session_token = tok\n")
        let credentials = try await load(["HOME": home.path])
        #expect(credentials == AWSCredentials(accessKeyID: "AKIAFILE", secretAccessKey: "secret", sessionToken: "tok"))
    }

    @Test func profileFromCallerThenAWSProfileAndConfigSectionNames() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        let config = try home.write("cfg", """
            [default]
            aws_access_key_id = AKIADEFAULT
            aws_secret_access_key = s
            [profile worker]
            aws_access_key_id = AKIAWORKER
            aws_secret_access_key = s
            [other]
            aws_access_key_id = AKIANOTAPROFILE
            aws_secret_access_key = s
            """)
        let environment = ["HOME": home.path, "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": home.path + "/none"]
        #expect(try await load(environment).accessKeyID == "AKIADEFAULT")
        #expect(try await load(environment.merging(["AWS_PROFILE": "worker"]) { $1 }).accessKeyID == "AKIAWORKER")
        #expect(try await load(profile: "worker", environment.merging(["AWS_PROFILE": "nope"]) { $1 }).accessKeyID == "AKIAWORKER")
        // In the config file a section without "profile " is not a profile.
        let error = await #expect(throws: CredentialError.self) { try await load(profile: "other", environment) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func credentialsFileWinsOverConfigFile() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write(".aws/config", "[profile p]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = c\n")
        try home.write(".aws/credentials", "[p]\naws_access_key_id = AKIACREDS\naws_secret_access_key = k\n")
        #expect(try await load(profile: "p", ["HOME": home.path]).accessKeyID == "AKIACREDS")
    }

    @Test func missingDefaultProfileIsNotConfiguredAndNamesBothFiles() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        let error = await #expect(throws: CredentialError.self) { try await load(["HOME": home.path]) }
        #expect(error?.code == .notConfigured)
        #expect(error?.message == "profile 'default' not found in \(home.path)/.aws/credentials, \(home.path)/.aws/config")
    }

    @Test func credentialProcessRunsWithoutAShellAndGetsQuotedArguments() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        let script = try home.write("bin/creds tool.sh", """
            #!/bin/sh
            [ "$1" = "two words" ] || { echo "bad arg 1: $1" >&2; exit 9; }
            [ "$2" = 'it'"'"'s' ] || { echo "bad arg 2: $2" >&2; exit 9; }
            printf '%s' '{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "\(TestSecrets.secretKey)", "SessionToken": "\(TestSecrets.sessionToken)", "Expiration": "2027-01-15T10:00:00.123Z"}'
            """, executable: true)
        try home.write(".aws/config", """
            [default]
            credential_process = "\(script)" "two words" it\\'s
            """)
        let credentials = try await load(["HOME": home.path, "PATH": "/usr/bin:/bin"])
        #expect(credentials.accessKeyID == "AKIAPROC")
        #expect(credentials.secretAccessKey == TestSecrets.secretKey)
        #expect(credentials.sessionToken == TestSecrets.sessionToken)
        #expect(abs(try #require(credentials.expiration).timeIntervalSince1970 - 1_800_007_200.123) < 0.000_1)
    }

    @Test func credentialProcessFailureNamesStatusButNeverStdout() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write("fail.sh", "#!/bin/sh\necho '{\"SecretAccessKey\": \"\(TestSecrets.secretKey)\"}'\necho 'role not allowed' >&2\nexit 3\n", executable: true)
        try home.write("garbage.sh", "#!/bin/sh\necho 'not json \(TestSecrets.secretKey)'\n", executable: true)
        try home.write(".aws/config", "[profile fail]\ncredential_process = \(home.path)/fail.sh\n[profile garbage]\ncredential_process = \(home.path)/garbage.sh\n")
        let failed = await #expect(throws: CredentialError.self) { try await load(profile: "fail", ["HOME": home.path]) }
        #expect(failed?.code == .retrievalFailed)
        #expect(failed?.description.contains("exited with status 3") == true)
        #expect(failed?.description.contains("role not allowed") == true)
        #expect(failed?.description.contains(TestSecrets.secretKey) == false)
        let garbage = await #expect(throws: CredentialError.self) { try await load(profile: "garbage", ["HOME": home.path]) }
        #expect(garbage?.description.contains("did not print a JSON object") == true)
        #expect(garbage?.description.contains(TestSecrets.secretKey) == false)
    }

    @Test func sourceProfileCycleIsRefused() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        try home.write(".aws/config", """
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = a
            """)
        let error = await #expect(throws: CredentialError.self) { try await load(profile: "a", ["HOME": home.path]) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message == "source_profile cycle: a -> b -> a")
    }
}

@Suite(.timeLimit(.minutes(1))) struct CredentialProcessSplitTests {
    @Test(arguments: [
        (#"/bin/tool a b"#, ["/bin/tool", "a", "b"]),
        (#"  tool   "a b"  'c d' "#, ["tool", "a b", "c d"]),
        (#"tool "x\"y" 'x\y' x\ y"#, ["tool", #"x"y"#, #"x\y"#, "x y"]),
        (#"tool "a\b" ''"#, ["tool", #"a\b"#, ""]),
        (#"tool --profile=p"q r""#, ["tool", "--profile=pq r"]),
    ])
    func splitsLikeShlex(line: String, expected: [String]) throws {
        #expect(try CredentialProcess.split(line) == expected)
    }

    @Test func unclosedQuoteIsAnError() {
        #expect(throws: CredentialProcess.SplitError.self) { try CredentialProcess.split(#"tool "open"#) }
    }
}

/// A hung, orphan-leaving or flooding `credential_process` cannot hold the chain.
@Suite(.timeLimit(.minutes(1))) struct CredentialProcessLimitTests {
    static let json = #"{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "s"}"#

    func run(_ script: String, timeout: Duration = .seconds(1)) async throws -> (Result<AWSCredentials, CredentialError>, Duration) {
        let home = try TempDirectory()
        defer { home.remove() }
        let path = try home.write("helper.sh", "#!/bin/sh\n" + script, executable: true)
        let started = ContinuousClock.now
        // Through /bin/sh: exec of a just-written file can fail with ETXTBSY while another test forks.
        let process = CredentialProcess(commandLine: "/bin/sh \(path)", environment: ["PATH": "/usr/bin:/bin"], timeout: timeout)
        let result: Result<AWSCredentials, CredentialError>
        do { result = .success(try await process.run()) } catch { result = .failure(error) }
        return (result, ContinuousClock.now - started)
    }

    @Test func hungHelperIsKilledAtTheDeadline() async throws {
        let (result, elapsed) = try await run("echo 'about to hang' >&2\nsleep 30\n")
        #expect(elapsed < .seconds(3))
        guard case .failure(let error) = result else { Issue.record("expected an error"); return }
        #expect(error.code == .retrievalFailed)
        #expect(error.message.contains("'/bin/sh' timed out") == true)
        #expect(error.message.contains("timed out") == true)
        #expect(error.message.contains("about to hang") == true)
    }

    @Test func backgroundChildHoldingStdoutDoesNotDelayTheAnswer() async throws {
        let (result, elapsed) = try await run("sleep 30 &\nprintf '%s' '\(Self.json)'\n", timeout: .seconds(20))
        #expect(elapsed < .seconds(3))
        #expect(try result.get().accessKeyID == "AKIAPROC")
    }

    @Test func backgroundChildIsKilledWithTheGroupAtTheDeadline() async throws {
        let home = try TempDirectory()
        defer { home.remove() }
        let marker = home.path + "/survived"
        let (result, elapsed) = try await run("(sleep 2; touch '\(marker)') &\nsleep 30\n")
        #expect(elapsed < .seconds(3))
        #expect(throws: CredentialError.self) { try result.get() }
        try await Task.sleep(for: .seconds(2))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func floodOfOutputIsRefusedWithoutQuotingIt() async throws {
        let (result, elapsed) = try await run("yes xxxxxxxx | head -c 10000000\n", timeout: .seconds(20))
        #expect(elapsed < .seconds(5))
        guard case .failure(let error) = result else { Issue.record("expected an error"); return }
        #expect(error.message.contains("printed more than 65536 bytes") == true)
        #expect(!error.message.contains("xxxx"))
    }

    @Test func largeStderrDoesNotStallTheHelper() async throws {
        let (result, _) = try await run("yes eeeeeeee | head -c 1000000 >&2\nprintf '%s' '\(Self.json)'\n", timeout: .seconds(20))
        #expect(try result.get().accessKeyID == "AKIAPROC")
    }
}
