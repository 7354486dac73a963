import Foundation
import Testing

/// The shipped unit, checked by systemd's own tools and against the behaviour the daemon needs.
@Suite(.timeLimit(.minutes(1))) struct UnitFileTests {
    static let unitPath = repositoryRoot + "/packaging/systemd/stepworker.service"

    /// Every `Key=value` line of the unit, in order (comments and sections dropped).
    static func settings() throws -> [(key: String, value: String)] {
        try String(contentsOfFile: unitPath, encoding: .utf8)
            .split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.hasPrefix("[") && $0.contains("=") }
            .map { line in
                let equals = line.firstIndex(of: "=")!
                return (String(line[..<equals]), String(line[line.index(after: equals)...]))
            }
    }

    @Test func declaresWhatTheDaemonReliesOn() throws {
        let settings = try Self.settings()
        func value(_ key: String) -> String? { settings.last { $0.key == key }?.value }
        #expect(value("Type") == "notify")
        #expect(value("NotifyAccess") == "main")
        #expect(value("ExecStartPre") == "/usr/bin/stepworker check --quiet")
        #expect(value("ExecStart") == "/usr/bin/stepworker run")
        // check first, so `systemctl reload` fails visibly on a broken file; then the signal
        #expect(settings.filter { $0.key == "ExecReload" }.map(\.value) == [
            "/usr/bin/stepworker check --quiet", "/bin/kill -HUP $MAINPID",
        ])
        #expect(value("WatchdogSec") == "30s")
        #expect(value("Restart") == "on-failure")
        #expect(value("RestartPreventExitStatus") == "78")
        #expect(value("KillMode") == "mixed")
        #expect(value("User") == "stepworker")
        #expect(value("Group") == "stepworker")
        #expect(value("StateDirectory") == "stepworker")
        #expect(value("ConfigurationDirectory") == "stepworker")
        // The drain grace (shutdown_grace) defaults to 2 minutes: the stop timeout must outlast it.
        let stop = try #require(value("TimeoutStopSec"))
        #expect(stop.hasSuffix("m") && (Int(stop.dropLast()) ?? 0) > 2, "TimeoutStopSec=\(stop)")
    }

    /// A copy of the unit whose executables exist on this machine (verify checks them).
    private func runnableCopy(in directory: TemporaryDirectory) throws -> String {
        let unit = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/stepworker", with: "/bin/true")
        let path = directory.file("stepworker.service")
        try unit.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func systemdAnalyzeVerifyIsSilent() async throws {
        guard let analyze = executableOnPath("systemd-analyze") else { try Test.cancel("systemd-analyze is not installed") }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await runProcess(analyze, ["verify", "--man=no", try runnableCopy(in: directory)])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func systemdAnalyzeSecurityScoresAtMost1Point5() async throws {
        guard let analyze = executableOnPath("systemd-analyze") else { try Test.cancel("systemd-analyze is not installed") }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await runProcess(analyze, ["security", "--offline=yes", "--threshold=15", try runnableCopy(in: directory)])
        let overall = result.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") } ?? ""
        #expect(result.status == 0, "\(overall) \(result.stderr)")
        #expect(overall.contains("OK"), "\(overall)")
    }

    @Test func sysusersCreatesTheServiceUser() async throws {
        guard let sysusers = executableOnPath("systemd-sysusers") else { try Test.cancel("systemd-sysusers is not installed") }
        let root = try TemporaryDirectory()
        defer { root.remove() }
        // Installed where the package puts it, in an empty root that only has /etc.
        try FileManager.default.createDirectory(atPath: root.file("etc"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.file("usr/lib/sysusers.d"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: repositoryRoot + "/packaging/sysusers.d/stepworker.conf",
            toPath: root.file("usr/lib/sysusers.d/stepworker.conf")
        )
        let result = try await runProcess(sysusers, ["--root=\(root.path)"])
        #expect(result.status == 0, "\(result.stderr)")
        let passwd = try String(contentsOfFile: root.file("etc/passwd"), encoding: .utf8)
        let entry = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("stepworker:") })
        let fields = entry.split(separator: ":", omittingEmptySubsequences: false)
        #expect(fields.count == 7)
        #expect(fields[5] == "/var/lib/stepworker")
        #expect(fields[6].hasSuffix("nologin"))
        #expect((Int(fields[2]) ?? 0) < 1000, "a system uid")
    }
}
