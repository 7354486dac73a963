#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FoundationEssentials
import Logging
package import StepFunctions

/// The ledger's records on disk (`TaskLedger` is the only user; it runs these calls on
/// `BlockingIO`'s threads).
///
/// One record per task, in `inflight/`, named by the token's fingerprint: written (fsync) when
/// the task is received, replaced in place (a new file fsynced, renamed over it, the directory
/// fsynced) by the task's result before the first send, and removed once the service
/// acknowledged the result or said the token is dead. A record without a result left at start
/// belongs to a task a crashed worker never finished: it becomes a `Worker.Interrupted` result.
/// A record with a result is delivered again.
///
/// One file per task in one directory keeps the steps in order whatever the file system
/// persists first: the removal at the end is not fsynced, and whenever a crash brings the
/// record back it is the result, sent again and refused by the service as finished, never an
/// older "running" record that would turn a finished task into `Worker.Interrupted`. (Results
/// written by an earlier version, which kept them in `outbox/`, are still read at start.)
///
/// Records hold whole task tokens, which the service needs; the directory is mode 0700 and the
/// files 0600. Leftover temporary files of writes a crash interrupted are removed at start.
package struct LedgerFiles: LedgerStorage {
    package let inflightDirectory: String
    package let outboxDirectory: String

    /// Uses (and creates) `inflight/` under `stateDirectory`, and reads `outbox/` (an earlier
    /// version's results) at start.
    package init(stateDirectory: String) throws(DurableFileError) {
        inflightDirectory = stateDirectory + "/inflight"
        outboxDirectory = stateDirectory + "/outbox"
        try DurableFile.makeDirectory(stateDirectory)
        try DurableFile.makeDirectory(inflightDirectory)
        try DurableFile.makeDirectory(outboxDirectory)
    }

    /// Notes that the task is running, before its handler starts.
    package func recordStarted(token: TaskToken, activityArn: String) throws {
        let record = Record(token: token.rawValue, activityArn: activityArn, result: nil)
        try DurableFile.write(try record.encoded(), to: path(inflightDirectory, token), in: inflightDirectory)
    }

    /// Keeps `result` until `acknowledge`: the task's record, now with its result.
    package func store(_ result: TaskResult, token: TaskToken, activityArn: String) throws {
        let record = Record(token: token.rawValue, activityArn: activityArn, result: result)
        try DurableFile.write(try record.encoded(), to: path(inflightDirectory, token), in: inflightDirectory)
    }

    /// The service took the result (or said the token is dead): forget it.
    package func acknowledge(token: TaskToken) throws {
        try forget(token: token)
    }

    /// The task ended with nothing to report (the service said it is gone): forget it.
    package func forget(token: TaskToken) throws {
        try DurableFile.remove(path(inflightDirectory, token))
        try DurableFile.remove(path(outboxDirectory, token))
    }

    /// At start: turns every task a previous run left running into a `Worker.Interrupted`
    /// result, then returns every result waiting to be delivered. Unreadable records are moved
    /// aside (`*.corrupt`) and named in `unreadable` rather than stopping the worker.
    package func recover() throws -> LedgerRecovery {
        var unreadable: [String] = []
        var pending: [PendingResult] = []
        var delivered: Set<String> = []
        for directory in [inflightDirectory, outboxDirectory] { DurableFile.removeLeftovers(in: directory) }
        // Results an earlier version kept in outbox/ first: they outrank a running record.
        for name in try DurableFile.list(outboxDirectory, suffix: ".json") {
            let file = "\(outboxDirectory)/\(name)"
            guard let record = try? Record.decode(DurableFile.read(file)), let result = record.result else {
                unreadable.append(file)
                _ = rename(file, file + ".corrupt")
                continue
            }
            delivered.insert(name)
            pending.append(PendingResult(token: TaskToken(record.token), activityArn: record.activityArn, result: result))
        }
        for name in try DurableFile.list(inflightDirectory, suffix: ".json") {
            let file = "\(inflightDirectory)/\(name)"
            guard let record = try? Record.decode(DurableFile.read(file)) else {
                unreadable.append(file)
                _ = rename(file, file + ".corrupt")
                continue
            }
            let token = TaskToken(record.token)
            if delivered.contains(name) {
                try DurableFile.remove(file)
            } else if let result = record.result {
                pending.append(PendingResult(token: token, activityArn: record.activityArn, result: result))
            } else if case .report(let result) = TaskFate.interruptedByRestart {
                try store(result, token: token, activityArn: record.activityArn)
                pending.append(PendingResult(token: token, activityArn: record.activityArn, result: result))
            }
        }
        return LedgerRecovery(pending: pending, unreadable: unreadable)
    }

    private func path(_ directory: String, _ token: TaskToken) -> String {
        "\(directory)/\(token.fingerprint).json"
    }
}

/// The file format: `{"version":1,"token":…,"activityArn":…,"result":{"status":"SUCCEEDED","output":…}}`.
private struct Record: Codable {
    var version = 1
    var token: String
    var activityArn: String
    var result: TaskResult?

    init(token: String, activityArn: String, result: TaskResult?) {
        self.token = token
        self.activityArn = activityArn
        self.result = result
    }

    func encoded() throws -> [UInt8] {
        Array(try JSONEncoder().encode(self))
    }

    static func decode(_ bytes: [UInt8]) throws -> Record {
        let record = try JSONDecoder().decode(Record.self, from: Data(bytes))
        guard record.version == 1 else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "version \(record.version)")) }
        return record
    }
}

extension TaskResult: Codable {
    private enum CodingKeys: String, CodingKey { case status, output, error, cause }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .status) {
        case "SUCCEEDED":
            self = .success(output: try container.decode(String.self, forKey: .output))
        case "FAILED":
            self = .failure(error: try container.decode(String.self, forKey: .error), cause: try container.decode(String.self, forKey: .cause))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .status, in: container, debugDescription: "unknown status \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .success(let output):
            try container.encode("SUCCEEDED", forKey: .status)
            try container.encode(output, forKey: .output)
        case .failure(let error, let cause):
            try container.encode("FAILED", forKey: .status)
            try container.encode(error, forKey: .error)
            try container.encode(cause, forKey: .cause)
        }
    }
}
