import POSIXSupport
import StepWorker
import StepWorkerTestKit
import Testing

/// Issue 32: a message quotes a value from outside up to a bound (`boundedPrefix`), so a huge
/// configuration value makes a configuration error of a few hundred bytes that still names the
/// file, the line and the key path (10 MB through the binary: `CommandLineTests`).
@Suite("boundedPrefix: values from outside quoted up to a bound", .timeLimit(.minutes(1)))
struct BoundedPrefixTests {
    @Test(arguments: [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven char", 10, "eleven cha… (11 bytes)"),
        ("", 0, ""),
        ("abc", 0, "… (3 bytes)"),
        // 6 characters, 18 bytes: more bytes than the limit, but not more characters.
        ("漢字漢字漢字", 6, "漢字漢字漢字"),
        ("漢字漢字漢字", 5, "漢字漢字漢… (18 bytes)"),
        // A character of several scalars is kept whole or not at all.
        ("e\u{301}e\u{301}e\u{301}", 2, "e\u{301}e\u{301}… (9 bytes)"),
        ("👩‍👩‍👧‍👦👩‍👩‍👧‍👦", 1, "👩‍👩‍👧‍👦… (50 bytes)"),
    ])
    func cutsOnACharacterBoundary(text: String, limit: Int, expected: String) {
        #expect(text.boundedPrefix(limit) == expected)
        #expect(text[...].boundedPrefix(limit) == expected)
    }

    @Test func aHugeValueCostsItsBoundNotItsSize() {
        let long = String(repeating: "x", count: 2 << 20)
        let quoted = long.boundedPrefix()
        #expect(quoted == String(repeating: "x", count: 200) + "… (2097152 bytes)")
        // One "character" of a million combining marks: cut where the look ended, at a scalar.
        let marks = "a" + String(repeating: "\u{301}", count: 1_000_000)
        let cut = marks.boundedPrefix(10)
        #expect(cut.hasSuffix("… (2000001 bytes)"))
        #expect(cut.unicodeScalars.count <= 44 + "… (2000001 bytes)".unicodeScalars.count)
    }

    /// 64 KiB, far past any bound, yet light: these tests run beside others that measure the
    /// process's memory and time, and the debug build's `TOMLLineIndex` takes ~0.3 s per MB.
    /// The 10 MB file is `CommandLineTests`', through the binary in a process of its own.
    static let huge = String(repeating: "v", count: 64 << 10)

    /// Every place a configuration error quotes a value or a key, with a 64 KiB one. (A long
    /// `user` or `group` used to abort the process: systemd's NSS module asserts on long names.)
    @Test(arguments: [
        ("[worker]\nstate_directory = \"\(huge)\"\n", 2, "worker.state_directory"),
        ("[worker]\nlog_level = \"\(huge)\"\n", 2, "worker.log_level"),
        ("[aws]\nregion = \"\(huge)_\"\n", 2, "aws.region"),
        ("[metrics]\nlisten = \"\(huge)\"\n", 2, "metrics.listen"),
        ("[[activity]]\narn = \"\(huge)\"\n", 2, "activity[0].arn"),
        ("[[activity]]\nprotocol = \"\(huge)\"\n", 2, "activity[0].protocol"),
        ("[[activity]]\ntimeout = \"\(huge)\"\n", 2, "activity[0].timeout"),
        ("[[activity]]\ncommand = [\"/\(huge)\"]\n", 2, "activity[0].command[0]"),
        ("[[activity]]\ncommand = [\"\(huge)\"]\n", 2, "activity[0].command[0]"),
        ("[[activity]]\nuser = \"\(huge)\"\n", 2, "activity[0].user"),
        ("[[activity]]\ngroup = \"\(huge)\"\n", 2, "activity[0].group"),
        ("[[activity]]\nexit_codes = { \"\(huge)\" = \"X\" }\n", 2, "activity[0].exit_codes."),
        ("[worker]\n\(huge) = 1\n", 2, "worker."),
    ])
    func aHugeValueOrKeyMakesABoundedErrorThatNamesFileLineAndKey(toml: String, line: Int, keyPath: String) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader(host: TestHostFacts(root: true)).load(text: toml, file: "/etc/stepworker/big.toml")
        }
        let problem = try #require(error.problems.first { $0.line == line && $0.keyPath.description.hasPrefix(keyPath) })
        #expect(problem.description.hasPrefix("/etc/stepworker/big.toml:\(line): \(keyPath)"))
        for problem in error.problems {
            #expect(problem.description.utf8.count < 1000, "\(problem.description.prefix(300))")
        }
        #expect(error.description.contains("(65536 bytes)") || error.description.contains("(65537 bytes)"))
    }

    @Test func aTOMLSyntaxErrorIsBoundedToo() throws {
        let toml = "[worker]\nname = \"\(Self.huge)\n"
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: "/etc/stepworker/big.toml")
        }
        #expect(error.description.hasPrefix("/etc/stepworker/big.toml:2: TOML syntax error"))
        #expect(error.description.utf8.count < 1000)
    }
}
