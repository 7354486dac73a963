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
        // The interrupted task's record now holds its result: a second start sends the same one.
        #expect(try DurableFileNames.inflight(directory).count == 2)
        #expect(try LedgerFiles(stateDirectory: directory).recover().pending == pending)
    }

    @Test func oneRecordPerTaskSoAResultBroughtBackIsNeverAnOlderRunningRecord() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.recordStarted(token: token(7), activityArn: arn)
        try outbox.store(.success(output: "7"), token: token(7), activityArn: arn)
        // The result replaced the running record in place: the task has one file, so whatever
        // a power cut keeps of the later removal, it is this result or nothing.
        #expect(try DurableFileNames.inflight(directory) == ["\(token(7).fingerprint).json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/outbox").isEmpty)
        #expect(try outbox.recover().pending.map(\.result) == [.success(output: "7")])
    }

    @Test func aResultAnEarlierVersionKeptInOutboxIsDeliveredAndOutranksItsRunningRecord() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.recordStarted(token: token(8), activityArn: arn)
        // What the previous format left after a crash between its two steps.
        let name = "\(token(8).fingerprint).json"
        let legacy = #"{"version":1,"token":"\#(token(8).rawValue)","activityArn":"\#(arn)","result":{"status":"SUCCEEDED","output":"8"}}"#
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: "\(directory)/outbox/\(name)"))
        let recovered = try outbox.recover()
        #expect(recovered.pending == [PendingResult(token: token(8), activityArn: arn, result: .success(output: "8"))])
        #expect(try DurableFileNames.inflight(directory).isEmpty, "the running record gave way to the result")
        try outbox.acknowledge(token: token(8))
        #expect(try outbox.recover().pending.isEmpty)
    }

    @Test func temporaryFilesOfInterruptedWritesAreRemovedAtStart() throws {
        let outbox = try LedgerFiles(stateDirectory: directory)
        try outbox.recordStarted(token: token(9), activityArn: arn)
        try Data("half a rec".utf8).write(to: URL(fileURLWithPath: "\(directory)/inflight/.tmp-1234-5678"))
        _ = try outbox.recover()
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/inflight") == ["\(token(9).fingerprint).json"])
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
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/inflight")
        #expect(names == ["\(token(6).fingerprint).json"])
        let fileMode = try FileManager.default.attributesOfItem(atPath: "\(directory)/inflight/\(names[0])")[.posixPermissions] as? Int
        let directoryMode = try FileManager.default.attributesOfItem(atPath: "\(directory)/inflight")[.posixPermissions] as? Int
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
