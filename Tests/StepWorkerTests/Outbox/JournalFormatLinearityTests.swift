import StepFunctions
@testable import StepWorker
import Testing

/// Whatever bytes an attacker who can write the state directory puts in the journal, reading
/// it costs time in proportion to its size (issue 32). Forged frame headers that each claim a
/// large payload used to be checksummed over that payload one by one: 1 MiB of them started in
/// 5.7 s, 4 MiB in 93 s. The work is counted (bytes run through the CRC), not timed.
@Suite(.timeLimit(.minutes(1))) struct JournalFormatLinearityTests {
    let arn = "arn:aws:states:us-east-1:123456789012:activity:a"
    var first: JournalRecord { .result(token: TaskToken("t1"), activityArn: arn, .success(output: #"{"a":1}"#)) }
    var last: JournalRecord { .cleared(fingerprint: "0123456789abcdef") }

    /// A record, `forged` bytes of 12-byte headers each claiming as much of what follows as a
    /// frame may (with a checksum that does not hold), a record, then `tail` bytes of zeroed
    /// space the claims reach into.
    func forgedJournal(forged: Int, tail: Int = JournalFormat.maxPayload) -> (bytes: [UInt8], forged: Range<Int>) {
        var bytes = JournalFormat.encode(first)
        let start = bytes.count
        let total = start + forged + JournalFormat.encode(last).count + tail
        while bytes.count + JournalFormat.headerSize <= start + forged {
            let claim = min(JournalFormat.maxPayload, total - bytes.count - JournalFormat.headerSize)
            bytes += JournalFormat.magic + Self.littleEndian(UInt32(claim)) + [0xDE, 0xAD, 0xBE, 0xEF]
        }
        let end = bytes.count
        bytes += JournalFormat.encode(last)
        bytes += [UInt8](repeating: 0, count: total - bytes.count)
        return (bytes, start..<end)
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    /// The bound `RangeChecksums` promises: the buffer once, and per candidate frame (one at
    /// most every 8 bytes: its magic cannot overlap itself, nor sit in a length no frame may
    /// have) its 4 length bytes and two register values of at most `stride - 1` bytes each.
    static func bound(_ count: Int) -> Int {
        count + (count / 8 + 1) * (4 + 2 * (RangeChecksums.stride - 1))
    }

    func work(_ bytes: [UInt8]) -> (JournalFormat.Parsed, Int) {
        var checksums: RangeChecksums?
        let parsed = JournalFormat.parse(bytes, checksums: &checksums)!
        return (parsed, checksums?.bytesChecksummed ?? 0)
    }

    @Test func forgedHeadersCostOnePassOverTheFileNotOnePayloadEach() {
        let (bytes, forged) = forgedJournal(forged: 1 << 20)
        let (parsed, checksummed) = work(bytes)
        #expect(parsed.records == [first, last], "the records either side of the forged headers are read")
        #expect(parsed.unreadable == [forged])
        #expect(checksummed <= Self.bound(bytes.count), "\(checksummed) bytes checksummed for a file of \(bytes.count)")
        // Checksumming each claim, as before, was 87,381 headers × up to 4 MiB: 366 GB.
        #expect(checksummed < 3 * bytes.count)
    }

    /// Files of forged headers alone (each claiming what is left, up to 4 MiB), one twice the
    /// other: twice the work. Checksumming each claim (half of what follows, on average) made it four times as much.
    @Test func twiceTheForgedHeadersCostTwiceTheWork() {
        let small = forgedJournal(forged: 1 << 20, tail: 0).bytes
        let large = forgedJournal(forged: 2 << 20, tail: 0).bytes
        let growth = Double(work(large).1) / Double(work(small).1)
        let sizeGrowth = Double(large.count) / Double(small.count)
        #expect(growth <= sizeGrowth * 1.05, "work grew \(growth)× for a file \(sizeGrowth)× as large")
    }

    /// Frames nested in each other's payloads, each with a checksum that holds (computed from the
    /// innermost out) and a payload that is not a record (its string ends in a byte UTF-8
    /// refuses): the outermost one is damage as a whole; nothing inside it is tried again.
    @Test func nestedFramesWhoseChecksumHoldsButAreNotRecordsAreOneDamagedRange() {
        let count = 4096
        let unit = JournalFormat.headerSize + 5  // header, kind, string length
        let nestEnd = count * unit + 1  // the shared last byte: 0xFF
        var nest = [UInt8](repeating: 0, count: nestEnd)
        nest[nestEnd - 1] = 0xFF
        for i in (0..<count).reversed() {
            let at = i * unit
            let payload = nestEnd - at - JournalFormat.headerSize
            nest.replaceSubrange(at..<at + 4, with: JournalFormat.magic)
            nest.replaceSubrange(at + 4..<at + 8, with: Self.littleEndian(UInt32(payload)))
            nest[at + 12] = 4  // cleared: one string, the rest of the payload
            nest.replaceSubrange(at + 13..<at + 17, with: Self.littleEndian(UInt32(payload - 5)))
            var crc = CRC32C.checksum(Array(nest[at + 4..<at + 8]))
            crc = nest[(at + 12)...].withUnsafeBytes { CRC32C.checksum($0, continuing: crc) }
            nest.replaceSubrange(at + 8..<at + 12, with: Self.littleEndian(crc))
        }
        let outer = CRC32C.checksum(Array(nest[4..<8]) + Array(nest[12...]))
        #expect(Array(nest[8..<12]) == Self.littleEndian(outer), "the checksums hold")
        let head = JournalFormat.encode(first)
        let bytes = head + nest + JournalFormat.encode(last)
        let (parsed, checksummed) = work(bytes)
        #expect(parsed.records == [first, last])
        #expect(parsed.unreadable == [head.count..<head.count + nestEnd])
        #expect(checksummed <= Self.bound(bytes.count))
    }

    /// Such a frame is damage as a whole, even when a record is inside it: the daemon never
    /// writes one, and trying every offset inside it again is what a nest of them exploits.
    @Test func aFrameWhoseChecksumHoldsButIsNotARecordIsDamageAsAWhole() {
        let inner = JournalFormat.encode(first)
        var payload: [UInt8] = [9]  // no such kind
        payload += inner
        let length = Self.littleEndian(UInt32(payload.count))
        let frame = JournalFormat.magic + length + Self.littleEndian(CRC32C.checksum(length + payload)) + payload
        let bytes = frame + JournalFormat.encode(last)
        let parsed = JournalFormat.parse(bytes)
        #expect(parsed.records == [last])
        #expect(parsed.unreadable == [0..<frame.count])
    }

    /// The secondary check, in time, with a generous bound: 4 MiB of forged headers took 93 s
    /// to read in a release build (past systemd's start timeout), at every restart; 1 MiB of
    /// them took this debug build 81 s.
    @Test func fourMebibytesOfForgedHeadersParseInSeconds() {
        let (bytes, forged) = forgedJournal(forged: 4 << 20)
        var parsed = JournalFormat.Parsed()
        let elapsed = ContinuousClock().measure { parsed = JournalFormat.parse(bytes) }
        #expect(parsed.unreadable == [forged])
        #expect(elapsed < .seconds(30), "\(elapsed)")  // 2-5 s in a debug build on a busy machine
    }

    /// The lookup gives what checksumming the bytes gives, for any range and any prefix.
    @Test func aRangesChecksumIsTheChecksumOfItsBytes() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            var checksums = RangeChecksums(raw)
            for _ in 0..<2000 {
                let start = Int.random(in: 4...bytes.count, using: &generator)
                let end = Int.random(in: start...bytes.count, using: &generator)
                let prefixStart = Int.random(in: 0...start - 4, using: &generator)
                let prefix = UnsafeRawBufferPointer(rebasing: raw[prefixStart..<prefixStart + 4])
                let expected = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<end]), continuing: CRC32C.checksum(prefix))
                #expect(checksums.checksum(prefix: prefix, then: start..<end, in: raw) == expected, "\(start)..<\(end)")
            }
        }
    }
}
