import FoundationEssentials
import Glibc
import StepFunctions

/// The ledger's layouts before the journal, read once at start so an upgrade loses nothing:
/// `inflight/` (one JSON file per task, named by fingerprint, holding its result once kept) and
/// the first format's `outbox/` (results only). `LedgerJournal.recover()` takes their records
/// into the journal, then removes the files and fsyncs their directories, so they never come
/// back to override a newer state.
enum LegacyLedgerFiles {
    struct Found {
        var records: [JournalRecord] = []
        /// Files whose records were taken (to remove once the journal holds them).
        var files: [String] = []
        /// Files that could not be read, already moved aside as `*.corrupt`.
        var unreadable: [String] = []
    }

    /// The records of `outbox/` first (results, which outrank a running record of the same task,
    /// `LedgerState.apply`), then of `inflight/`. Leftover temporary files are removed.
    static func read(stateDirectory: String) -> Found {
        var found = Found()
        for (directory, resultsOnly) in [("\(stateDirectory)/outbox", true), ("\(stateDirectory)/inflight", false)] {
            DurableFile.removeLeftovers(in: directory)
            guard let names = try? DurableFile.list(directory, suffix: ".json") else { continue }
            for name in names {
                let file = "\(directory)/\(name)"
                guard let record = try? Record.decode(DurableFile.read(file)), !(resultsOnly && record.result == nil) else {
                    found.unreadable.append(file)
                    _ = rename(file, file + ".corrupt")
                    continue
                }
                found.files.append(file)
                if let result = record.result {
                    found.records.append(.result(token: TaskToken(record.token), activityArn: record.activityArn, result))
                } else {
                    found.records.append(.started(token: TaskToken(record.token), activityArn: record.activityArn))
                }
            }
        }
        return found
    }

    /// Removes the taken files, durably (each directory fsynced once).
    static func remove(_ files: [String]) throws(DurableFileError) {
        var directories: Set<String> = []
        for file in files {
            try DurableFile.remove(file)
            if let slash = file.lastIndex(of: "/") { directories.insert(String(file[..<slash])) }
        }
        for directory in directories.sorted() { try DurableFile.syncDirectory(directory) }
    }

    /// Writes a record as the last version before the journal did (for tests of the upgrade).
    static func write(_ record: JournalRecord, stateDirectory: String) throws {
        let directory = "\(stateDirectory)/inflight"
        try DurableFile.makeDirectory(stateDirectory)
        try DurableFile.makeDirectory(directory)
        let legacy: Record
        switch record {
        case .started(let token, let arn): legacy = Record(token: token.rawValue, activityArn: arn, result: nil)
        case .result(let token, let arn, let result): legacy = Record(token: token.rawValue, activityArn: arn, result: result)
        case .cleared: return
        }
        try DurableFile.write(try legacy.encoded(), to: "\(directory)/\(record.fingerprint).json", in: directory)
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
