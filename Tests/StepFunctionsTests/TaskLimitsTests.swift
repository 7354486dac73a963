import StepFunctions
import Testing

@Suite struct TaskLimitsTests {
    @Test func shortTextIsUnchanged() {
        #expect(TaskLimits.truncating("abc", toCharacters: 3) == "abc")
        #expect(TaskLimits.truncating("abc", toUTF8Bytes: 3) == "abc")
    }

    @Test func characterLimitCountsScalarsNotBytes() {
        let text = String(repeating: "é", count: 300)  // 2 bytes each
        let cut = TaskLimits.truncating(text, toCharacters: TaskLimits.maxErrorCharacters)
        #expect(cut.unicodeScalars.count == 256)
        #expect(cut.utf8.count == 512)
    }

    @Test func byteLimitNeverSplitsASequence() {
        // "€" is 3 bytes: 4 bytes of room holds one, not one and a third.
        #expect(TaskLimits.truncating("€€", toUTF8Bytes: 4) == "€")
        #expect(TaskLimits.truncating("a😀", toUTF8Bytes: 4) == "a")
        #expect(TaskLimits.truncating("a😀", toUTF8Bytes: 5) == "a😀")
    }
}
