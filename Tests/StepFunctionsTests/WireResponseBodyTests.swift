import Foundation
@testable import StepFunctions
import Testing

/// The poll answer read by hand gives what `JSONDecoder` gives, or leaves the body to it.
@Suite(.timeLimit(.minutes(1)))
struct WireResponseBodyTests {
    static func fast(_ body: String) -> Wire.GetActivityTaskOutput? {
        Array(body.utf8).withUnsafeBytes { WireJSONObject.read($0) }.flatMap { Wire.GetActivityTaskOutput(members: $0) }
    }

    static func decoded(_ body: String) -> Wire.GetActivityTaskOutput? {
        try? JSONDecoder().decode(Wire.GetActivityTaskOutput.self, from: Data(body.utf8))
    }

    @Test(arguments: WireRequestBodyTests.awkward)
    func whatJSONEncoderWritesReadsBackTheSame(_ text: String) throws {
        let body = String(decoding: try JSONEncoder().encode(Wire.GetActivityTaskOutput(taskToken: text + "t", input: text)), as: UTF8.self)
        let read = try #require(Self.fast(body), "\(body.prefix(200))")
        #expect(read.taskToken == text + "t" && read.input == text)
    }

    /// Bodies the fast path reads, each with what JSONDecoder makes of it.
    static let readable: [String] = [
        #"{}"#, #" { } "#, #"{"taskToken":null,"input":null}"#, #"{"taskToken":"","input":""}"#,
        "{\n\t\"input\" : \"{\\\"a\\\":1}\" ,\r\n \"taskToken\":\"AAAA+/=\" }\n",
        #"{"taskToken":"t","input":"\u00e9\u4E2D\ud83e\uDDEA\/\b\f\n\r\t\"\\\u0000"}"#,
        #"{"input":"x","taskToken":"t","somethingNew":"ignored"}"#,
        "{\"taskToken\":\"t\",\"input\":\"raw UTF-8: é 漢字 🧪\"}",
    ]

    @Test(arguments: readable)
    func readsAsJSONDecoderDoes(_ body: String) throws {
        let expected = try #require(Self.decoded(body), "JSONDecoder refused \(body)")
        let read = try #require(Self.fast(body), "\(body)")
        #expect(read.taskToken == expected.taskToken && read.input == expected.input)
    }

    /// Bodies the fast path leaves to JSONDecoder: other kinds of values, repeated keys, bad
    /// escapes, lone surrogates, raw control characters, trailing bytes, broken JSON.
    static let leftToJSONDecoder: [String] = [
        "", "null", "[]", #"{"taskToken":1}"#, #"{"taskToken":"t","extra":{"a":"b"}}"#, #"{"taskToken":"t","n":true}"#,
        #"{"taskToken":"a","taskToken":"b"}"#, #"{"taskToken":"\x"}"#, #"{"taskToken":"\u12"}"#, #"{"taskToken":"\ud83e"}"#,
        #"{"taskToken":"\udc00x"}"#, #"{"taskToken":"\ud83e\u0041"}"#, "{\"taskToken\":\"a\u{1}b\"}", #"{"taskToken":"t"} x"#,
        #"{"taskToken":"t",}"#, #"{"taskToken":"t""#, #"{"taskToken" "t"}"#, #"{"taskToken":nul}"#, #"{,}"#,
    ]

    @Test(arguments: leftToJSONDecoder)
    func leavesEverythingElseToJSONDecoder(_ body: String) {
        #expect(Self.fast(body) == nil, "\(body)")
    }

    /// The answer to a result or heartbeat: `{}` as the service sends it, with whitespace, or
    /// with members a later API version might add.
    @Test(arguments: ["{}", " {\n} ", #"{"newField":"x","other":null}"#])
    func emptyAnswersReadByHand(_ body: String) {
        #expect(Array(body.utf8).withUnsafeBytes { WireJSONObject.read($0) }.flatMap { Wire.Empty(members: $0) } != nil)
        #expect((try? JSONDecoder().decode(Wire.Empty.self, from: Data(body.utf8))) != nil)
    }

    @Test func invalidUTF8IsLeftToJSONDecoder() {
        let bytes: [UInt8] = Array(#"{"taskToken":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(bytes.withUnsafeBytes { WireJSONObject.read($0) } == nil)
    }
}
