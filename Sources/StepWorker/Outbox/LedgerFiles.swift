import Foundation
import Logging
package import StepFunctions

/// The ledger's records on disk (`TaskLedger` is the only user; it runs these calls on
/// `BlockingIO`'s threads).
///
/// - `inflight/`: a record per running task, written when the task is received. A record left
///   there at start belongs to a task a crashed worker never finished: it becomes a
///   `Worker.Interrupted` failure.
/// - `outbox/`: a record per result not yet acknowledged, written (fsync) before the first send
///   and removed once the service acknowledged it or said the token is dead.
///
/// Writes are durable (file and directory fsynced); removals are not, because a record a crash
/// brings back only makes the next start send a result again, which the service refuses as
/// finished: a task is never lost and never reported twice with different outcomes.
///
/// Records hold whole task tokens, which the service needs; the directories are mode 0700 and
/// the files 0600. Records are named by the token's fingerprint, never by the token.
package struct LedgerFiles: LedgerStorage {
    package let inflightDirectory: String
    package let outboxDirectory: String

    /// Uses (and creates) `inflight/` and `outbox/` under `stateDirectory`.
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

    /// Keeps `result` until `acknowledge`, and clears the task's running record.
    package func store(_ result: TaskResult, token: TaskToken, activityArn: String) throws {
        let record = Record(token: token.rawValue, activityArn: activityArn, result: result)
        try DurableFile.write(try record.encoded(), to: path(outboxDirectory, token), in: outboxDirectory)
        try DurableFile.remove(path(inflightDirectory, token))
    }

    /// The service took the result (or said the token is dead): forget it.
    package func acknowledge(token: TaskToken) throws {
        try DurableFile.remove(path(outboxDirectory, token))
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
        for name in try DurableFile.list(inflightDirectory, suffix: ".json") {
            let file = "\(inflightDirectory)/\(name)"
            guard let record = try? Record.decode(DurableFile.read(file)) else {
                unreadable.append(file)
                _ = rename(file, file + ".corrupt")
                continue
            }
            let token = TaskToken(record.token)
            if !FileManager.default.fileExists(atPath: path(outboxDirectory, token)) {
                if case .report(let result) = TaskFate.interruptedByRestart {
                    try store(result, token: token, activityArn: record.activityArn)
                }
            } else {
                try DurableFile.remove(file)
            }
        }
        var pending: [PendingResult] = []
        for name in try DurableFile.list(outboxDirectory, suffix: ".json") {
            let file = "\(outboxDirectory)/\(name)"
            guard let record = try? Record.decode(DurableFile.read(file)), let result = record.result else {
                unreadable.append(file)
                _ = rename(file, file + ".corrupt")
                continue
            }
            pending.append(PendingResult(token: TaskToken(record.token), activityArn: record.activityArn, result: result))
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
