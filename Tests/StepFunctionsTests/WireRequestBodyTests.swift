import Foundation
@testable import StepFunctions
import Testing

/// The hand-written request bodies read back as the same values `JSONEncoder` would give.
@Suite(.timeLimit(.minutes(1)))
struct WireRequestBodyTests {
    static let awkward: [String] = [
        "", "plain", "quote\" backslash\\ slash/", "\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}",
        "line\u{2028}para\u{2029}", "emoji 🧪👩‍👩‍👧 é ü 漢字", String(repeating: "AAAAtoken+/=", count: 20_000),
        "{\"json\": [1, 2, null]}",
        "\"escapes at both ends\n", "\\",
    ]

    @Test(arguments: awkward)
    func sendTaskSuccessRoundTrips(_ text: String) throws {
        let input = Wire.SendTaskSuccessInput(taskToken: text, output: text + "!")
        let decoded = try JSONDecoder().decode(Wire.SendTaskSuccessInput.self, from: Data(WireRequestBody.encode(input)))
        #expect(decoded.taskToken == text && decoded.output == text + "!")
    }

    @Test(arguments: awkward)
    func sendTaskFailureRoundTrips(_ text: String) throws {
        for (error, cause) in [(text, text), (nil, text), (text, nil), (nil, nil)] as [(String?, String?)] {
            let input = Wire.SendTaskFailureInput(taskToken: text, error: error, cause: cause)
            let body = try WireRequestBody.encode(input)
            let decoded = try JSONDecoder().decode(Wire.SendTaskFailureInput.self, from: Data(body))
            #expect(decoded.taskToken == text && decoded.error == error && decoded.cause == cause)
            let keys = try #require(JSONSerialization.jsonObject(with: Data(body)) as? [String: String]).keys
            let expected = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(input)) as? [String: String]).keys
            #expect(Set(keys) == Set(expected))
        }
    }

    @Test(arguments: awkward)
    func getActivityTaskAndHeartbeatRoundTrip(_ text: String) throws {
        for worker in [text, nil] as [String?] {
            let input = Wire.GetActivityTaskInput(activityArn: text, workerName: worker)
            let decoded = try JSONDecoder().decode(Wire.GetActivityTaskInput.self, from: Data(WireRequestBody.encode(input)))
            #expect(decoded.activityArn == text && decoded.workerName == worker)
        }
        let heartbeat = try JSONDecoder().decode(
            Wire.TaskTokenInput.self, from: Data(WireRequestBody.encode(Wire.TaskTokenInput(taskToken: text))))
        #expect(heartbeat.taskToken == text)
    }

    /// A plain poll body is byte for byte what JSONEncoder writes (escapes like \u0001 may differ in case or form, still equal JSON).
    @Test func sameBytesAsJSONEncoder() throws {
        let poll = Wire.GetActivityTaskInput(activityArn: "arn:aws:states:eu-west-1:1:activity:x", workerName: nil)
        #expect(try WireRequestBody.encode(poll) == Array(JSONEncoder().encode(poll)))
    }
}

/// The 8-bytes-at-a-time scan finds the same byte as looking at each in turn.
@Suite struct JSONStringScanTests {
    @Test func findsTheFirstQuoteBackslashOrControlByteWhereverItIs() {
        var generator = SystemRandomNumberGenerator()
        let plain: [UInt8] = Array(0x20...0xFF).filter { $0 != 0x22 && $0 != 0x5C }.map(UInt8.init)
        for special in [0x00, 0x01, 0x1F, 0x22, 0x5C] as [UInt8] {
            for length in [0, 1, 7, 8, 9, 16, 23, 40] {
                for position in 0...length {
                    var bytes = (0..<length).map { _ in plain.randomElement(using: &generator)! }
                    if position < length { bytes[position] = special }
                    for start in [0, min(3, length)] {
                        let found = bytes.withUnsafeBytes { JSONStringScan.firstSpecial(in: $0, from: start) }
                        let expected = (start..<length).first { bytes[$0] < 0x20 || bytes[$0] == 0x22 || bytes[$0] == 0x5C } ?? length
                        #expect(found == expected, "special \(special) at \(position) of \(length), from \(start)")
                    }
                }
            }
        }
    }
}
