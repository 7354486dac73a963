import Foundation
import StepWorkerTestKit
import Testing

/// A real Prometheus server (Debian's /usr/bin/prometheus) for one test: its own configuration,
/// storage in a temporary directory, the web API on a loopback port the kernel picks. Never the
/// package's own service. `stop()` kills it; call it in every path (`defer`).
final class PrometheusServer {
    let process = Process()
    let directory = TemporaryDirectory()
    private(set) var port = 0

    /// Starts `prometheus` scraping `targets` (job `stepworker`) every second and evaluating
    /// `ruleFiles` every second; returns once its API answers `/-/ready`.
    init(targets: [String], ruleFiles: [String]) async throws {
        let executable = try PrometheusTool.require("prometheus")
        let quoted = { (items: [String]) in items.map { "\"\($0)\"" }.joined(separator: ", ") }
        let config = directory.write("prometheus.yml", """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files: [\(quoted(ruleFiles))]
            scrape_configs:
              - job_name: stepworker
                static_configs:
                  - targets: [\(quoted(targets))]
            """)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--config.file=\(config)", "--storage.tsdb.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:0", "--log.level=info",
        ]
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": directory.path]
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        let log = directory.write("prometheus.log", "")
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        do {
            try await awaitReady()
        } catch {
            stop()  // also when the wait is cancelled (the suite's time limit)
            throw error
        }
    }

    /// Port 0 in, the bound port out (its log says `msg="Listening on" address=127.0.0.1:N`),
    /// then `/-/ready` answering 200.
    private func awaitReady() async throws {
        _ = try await waitUntil(timeout: .seconds(30)) {
            port = Self.listeningPort(in: log) ?? 0
            return port != 0 || !process.isRunning
        }
        guard port != 0 else { throw StartFailure(reason: "it did not start listening", log: log) }
        let ready = try await waitUntil(timeout: .seconds(30)) { [port] in
            (try? await HTTPScrape.request("http://127.0.0.1:\(port)/-/ready", timeout: .seconds(2)))?.status == 200
        }
        guard ready else { throw StartFailure(reason: "it never answered /-/ready", log: log) }
    }

    struct StartFailure: Error, CustomStringConvertible {
        var reason: String
        var log: String
        var description: String { "prometheus: \(reason); its log:\n\(log)" }
    }

    /// Everything it logged (stderr).
    var log: String {
        (try? String(contentsOfFile: directory.path + "/prometheus.log", encoding: .utf8)) ?? ""
    }

    static func listeningPort(in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains(#"msg="Listening on""#) {
            guard let range = line.range(of: "address=127.0.0.1:") else { continue }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        return nil
    }

    /// SIGKILL and reap: nothing of it outlives the test (its storage goes with `directory`).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// GET `path` on its API (`/api/v1/...`), decoded.
    func get<Answer: Decodable>(_ path: String, as type: Answer.Type) async throws -> Answer {
        let answer = try await HTTPScrape.request("http://127.0.0.1:\(port)\(path)", timeout: .seconds(5))
        return try JSONDecoder().decode(Answer.self, from: Data(answer.body.utf8))
    }

    /// The instant vector `/api/v1/query` answers for `promql` now.
    func query(_ promql: String) async throws -> [PrometheusAPI.Sample] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: allowed) ?? promql
        return try await get("/api/v1/query?query=\(encoded)", as: PrometheusAPI.QueryAnswer.self).data.result
    }
}
