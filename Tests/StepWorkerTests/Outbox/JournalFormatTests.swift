import StepFunctions
@testable import StepWorker
import Testing

/// The journal's bytes without a disk: every record kind round-trips, and no damage (a tail
/// torn at any byte, any flipped bit, junk) loses a record that is still whole.
@Suite struct JournalFormatTests {
    let arn = "arn:aws:states:us-east-1:123456789012:activity:a"
    var records: [JournalRecord] {
        [
            .started(token: TaskToken("t1-" + String(repeating: "a", count: 300)), activityArn: arn),
            .result(token: TaskToken("t2"), activityArn: arn, .success(output: #"{"ö":"ü"}"#)),
            .result(token: TaskToken("t3"), activityArn: arn, .failure(error: "Handler.Failed", cause: "")),
            .cleared(fingerprint: "0123456789abcdef"),
        ]
    }

    func encoded(_ records: [JournalRecord]) -> (bytes: [UInt8], ends: [Int]) {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for record in records {
            JournalFormat.encode(record, into: &bytes)
            ends.append(bytes.count)
        }
        return (bytes, ends)
    }

    @Test func everyKindRoundTrips() {
        let bytes = encoded(records).bytes
        #expect(JournalFormat.parse(bytes) == JournalFormat.Parsed(records: records, unreadable: [], end: bytes.count))
    }

    @Test func aTailTornAtEveryByteKeepsEveryWholeRecord() {
        let (bytes, ends) = encoded(records)
        for cut in 0...bytes.count {
            let parsed = JournalFormat.parse(Array(bytes.prefix(cut)))
            let whole = ends.filter { $0 <= cut }.count
            #expect(parsed.records == Array(records.prefix(whole)), "cut at \(cut)")
            // The damage reported ends at its last non-zero byte (zeros are not data).
            let start = whole == 0 ? 0 : ends[whole - 1]
            var end = cut
            while end > start && bytes[end - 1] == 0 { end -= 1 }
            #expect(parsed.unreadable == (end > start ? [start..<end] : []), "cut at \(cut)")
            // The next record would go right after the damage, or after the last whole record.
            #expect(parsed.end == max(start, end), "cut at \(cut)")
        }
    }

    @Test func aTornTailFollowedByZerosIsTheSame() {
        let (bytes, ends) = encoded(records)
        let cut = ends[1] + 9
        let parsed = JournalFormat.parse(Array(bytes.prefix(cut)) + [UInt8](repeating: 0, count: 4096))
        #expect(parsed.records == Array(records.prefix(2)))
        #expect(parsed.unreadable == [ends[1]..<cut])
        #expect(parsed.end == cut, "the zeros are space to write over, not data")
    }

    @Test func anyFlippedBitLosesOnlyItsOwnRecord() {
        let (bytes, ends) = encoded(records)
        for offset in 0..<bytes.count {
            for bit in [0, 3, 7] {
                var damaged = bytes
                damaged[offset] ^= UInt8(1 << bit)
                let hit = ends.firstIndex { offset < $0 }!
                var expected = records
                expected.remove(at: hit)
                let parsed = JournalFormat.parse(damaged)
                #expect(parsed.records == expected, "bit \(bit) of byte \(offset)")
                #expect(parsed.unreadable.count == 1, "bit \(bit) of byte \(offset)")
            }
        }
    }

    @Test func junkAndZeroRunsBetweenRecordsAreSkipped() {
        let (bytes, ends) = encoded(records)
        let junk: [UInt8] = Array("SWL1 not a record".utf8)
        let mixed = Array(bytes[..<ends[0]]) + [0, 0, 0] + junk + Array(bytes[ends[0]...]) + [0, 0]
        let parsed = JournalFormat.parse(mixed)
        #expect(parsed.records == records)
        #expect(parsed.unreadable == [ends[0] + 3..<ends[0] + 3 + junk.count])
        #expect(parsed.end == mixed.count - 2)
    }

    @Test func aLengthBeyondAnyRecordIsDamageNotARecord() {
        var bytes = JournalFormat.magic + [0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4]
        bytes += encoded(records).bytes
        let parsed = JournalFormat.parse(bytes)
        #expect(parsed.records == records)
        #expect(parsed.unreadable == [0..<12])
    }
}
