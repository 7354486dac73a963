import Foundation
import StepFunctions
@testable import StepWorker
import Testing

@Suite struct LedgerFilesTests {
    let directory: String
    let arn = "arn:aws:states:us-east-1:123456789012:activity:a"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)").path
    }

    func token(_ n: Int) -> TaskToken {
        TaskToken("token-\(n)-" + String(repeating: "x", count: 500))
    }

    @Test func aStoredResultSurvivesARestartUntilAcknowledged() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.recordStarted(token: token(1), activityArn: arn)
        try outbox.store(.success(output: #"{"a":1}"#), token: token(1), activityArn: arn)

        let restarted = try LedgerFiles(stateDirectory: directory)
        let recovered = try restarted.recover()
        #expect(recovered.pending == [PendingResult(token: token(1), activityArn: arn, result: .success(output: #"{"a":1}"#))])
        #expect(recovered.unreadable.isEmpty)

        try restarted.acknowledge(token: token(1))
        #expect(try restarted.recover().pending.isEmpty)
    }

    @Test func aTaskLeftRunningBecomesWorkerInterrupted() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.recordStarted(token: token(2), activityArn: arn)
        try outbox.recordStarted(token: token(3), activityArn: arn)
        try outbox.store(.failure(error: "Handler.Failed", cause: "exit 1"), token: token(3), activityArn: arn)

        let pending = try LedgerFiles(stateDirectory: directory).recover().pending
        #expect(pending.count == 2)
        let interrupted = try #require(pending.first { $0.token == token(2) })
        #expect(interrupted.result == WorkerFailure.interrupted())
        #expect(pending.first { $0.token == token(3) }?.result == .failure(error: "Handler.Failed", cause: "exit 1"))
        #expect(try DurableFileNames.inflight(directory).isEmpty)
    }

    @Test func aForgottenTaskLeavesNothing() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.recordStarted(token: token(4), activityArn: arn)
        try outbox.forget(token: token(4))
        #expect(try outbox.recover().pending.isEmpty)
    }

    @Test func unreadableRecordsAreMovedAsideAndNamed() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.store(.success(output: "1"), token: token(5), activityArn: arn)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: "\(directory)/outbox/0123456789abcdef.json"))
        let recovered = try outbox.recover()
        #expect(recovered.pending.map(\.token) == [token(5)])
        #expect(recovered.unreadable == ["\(directory)/outbox/0123456789abcdef.json"])
        #expect(FileManager.default.fileExists(atPath: "\(directory)/outbox/0123456789abcdef.json.corrupt"))
    }

    @Test func recordsArePrivateAndNamedByFingerprintNotToken() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.store(.success(output: "1"), token: token(6), activityArn: arn)
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/outbox")
        #expect(names == ["\(token(6).fingerprint).json"])
        let fileMode = try FileManager.default.attributesOfItem(atPath: "\(directory)/outbox/\(names[0])")[.posixPermissions] as? Int
        let directoryMode = try FileManager.default.attributesOfItem(atPath: "\(directory)/outbox")[.posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(directoryMode == 0o700)
    }

    @Test func anUnwritableStateDirectoryIsAClearError() throws {
        let error = try #require(throws: DurableFileError.self) {
            _ = try LedgerFiles(stateDirectory: "/proc/stepworker-cannot-be-here")
        }
        #expect(error.description.contains("/proc/stepworker-cannot-be-here"))
    }
}

enum DurableFileNames {
    static func inflight(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(directory)/inflight").filter { !$0.hasPrefix(".") }
    }
}
