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
