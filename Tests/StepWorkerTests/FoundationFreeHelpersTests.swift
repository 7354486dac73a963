import Foundation
import POSIXSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import StepWorker

/// What replaced Foundation in the shipped modules (issue 12: no Foundation, so no ICU in the
/// binary): the handler's own thread, whitespace trimming, and JSON of any shape.
@Suite("Foundation-free helpers: DetachedThread, trimmingWhitespace, JSONValue", .timeLimit(.minutes(1)))
struct FoundationFreeHelpersTests {
    @Test func aDetachedThreadRunsItsBodyOnANewNamedThread() async throws {
        let caller = pthread_self()
        let (ranElsewhere, name) = try await withCheckedThrowingContinuation { continuation in
            do throws(SystemCallError) {
                try DetachedThread.start(name: "sw-test-thread") {
                    var buffer = [CChar](repeating: 0, count: 32)
                    let comm = open("/proc/thread-self/comm", O_RDONLY)
                    let count = comm >= 0 ? read(comm, &buffer, 31) : -1
                    if comm >= 0 { close(comm) }
                    let name = count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                    continuation.resume(returning: (pthread_equal(pthread_self(), caller) == 0, name))
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
        #expect(ranElsewhere)
        #expect(name == "sw-test-thread\n")
    }

    @Test(arguments: [
        ("  a b \n", "a b"), ("\t\r\nx", "x"), ("", ""), (" \n ", ""), ("\u{00A0}NBSP\u{2003}", "NBSP"), ("inner  space", "inner  space"),
    ])
    func trimmingWhitespaceDropsBothEndsOnly(text: String, expected: String) {
        #expect(String(text.trimmingWhitespace()) == expected)
        #expect(String(text[...].trimmingWhitespace()) == expected)
    }

    @Test func jsonValueParsesAnyTopLevelTypeAndWritesCompactSortedJSON() {
        #expect(JSONValue.parse(Array(#"{"b": 2, "a": [1, 2.5, true, null, "x/y"]}"#.utf8))?.compactText
            == #"{"a":[1,2.5,true,null,"x\/y"],"b":2}"#)
        #expect(JSONValue.parse(Array(" 12 ".utf8)) == .integer(12))
        #expect(JSONValue.parse(Array("1e2".utf8))?.compactText == "100")
        #expect(JSONValue.parse(Array(#""\u00e9""#.utf8)) == .string("é"))
        #expect(JSONValue.parse(Array("[1, 2".utf8)) == nil)
        #expect(JSONValue.parse(Array(#"{"a":1} x"#.utf8)) == nil)
        #expect(JSONValue.parse([]) == nil)
    }
}

/// The shipped modules stay off Foundation: one `import Foundation` (or NIOFoundationCompat)
/// links Foundation, FoundationInternationalization and ICU's 34 MB data table back into the
/// static binary (issue 12). Tests, the test kit, demo and bench may use it.
@Suite("The shipped modules import FoundationEssentials only", .timeLimit(.minutes(1)))
struct ShippedModulesImportTests {
    static let shipped = ["HTTPServing", "POSIXSupport", "StepFunctions", "StepFunctionsLocal", "StepWorker", "Systemd", "stepworker"]

    @Test func noShippedSourceImportsFoundation() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        var offenders: [String] = []
        var files = 0
        for module in Self.shipped {
            let directory = sources.appendingPathComponent(module)
            let enumerator = try #require(FileManager.default.enumerator(atPath: directory.path))
            for case let path as String in enumerator where path.hasSuffix(".swift") {
                files += 1
                let text = try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let words = line.split(separator: " ")
                    if let last = words.last, words.contains("import"), last == "Foundation" || last == "NIOFoundationCompat" {
                        offenders.append("Sources/\(module)/\(path):\(number + 1): \(line)")
                    }
                }
            }
        }
        #expect(files > 100)
        #expect(offenders.isEmpty, "import FoundationEssentials (and NIOFoundationEssentialsCompat) instead:\n\(offenders.joined(separator: "\n"))")
    }
}
