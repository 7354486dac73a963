import StepFunctions

/// The bytes of the ledger journal: a sequence of frames, each
///
///     magic "SWL1" (4 bytes) | payload length (u32 LE) | CRC-32C of length and payload (u32 LE) | payload
///
/// and a payload is a kind byte followed by length-prefixed (u32 LE) UTF-8 strings:
/// 1 started (token, activity ARN), 2 succeeded (token, ARN, output), 3 failed (token, ARN,
/// error, cause), 4 cleared (fingerprint). Appends only; the file never has a header, so any
/// frame can be read on its own.
///
/// Reading never gives up: a frame that does not check out (torn by a crash, a flipped bit) is
/// skipped up to the next frame that does, and the skipped bytes are returned so they can be
/// kept aside. Zero bytes between or after frames are not data and are skipped silently: the
/// journal keeps zeroed space ahead of its last frame (`JournalFile`), and a file system may
/// leave a zero-filled tail after a crash.
enum JournalFormat {
    static let magic: [UInt8] = Array("SWL1".utf8)
    static let headerSize = 12
    /// More than any record can hold (output 256 KiB, cause 32 KiB, token 2 KiB, ARN): a longer
    /// length is a damaged header, not a record.
    static let maxPayload = 4 << 20

    /// One frame holding `record`.
    static func encode(_ record: JournalRecord, into bytes: inout [UInt8]) {
        var payload: [UInt8] = []
        switch record {
        case .started(let token, let arn):
            payload.append(1)
            append(token.rawValue, to: &payload)
            append(arn, to: &payload)
        case .result(let token, let arn, .success(let output)):
            payload.append(2)
            append(token.rawValue, to: &payload)
            append(arn, to: &payload)
            append(output, to: &payload)
        case .result(let token, let arn, .failure(let error, let cause)):
            payload.append(3)
            append(token.rawValue, to: &payload)
            append(arn, to: &payload)
            append(error, to: &payload)
            append(cause, to: &payload)
        case .cleared(let fingerprint):
            payload.append(4)
            append(fingerprint, to: &payload)
        }
        let length = littleEndian(UInt32(payload.count))
        var crc = length.withUnsafeBytes { CRC32C.checksum($0) }
        crc = payload.withUnsafeBytes { CRC32C.checksum($0, continuing: crc) }
        bytes += magic
        bytes += length
        bytes += littleEndian(crc)
        bytes += payload
    }

    static func encode(_ record: JournalRecord) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(record, into: &bytes)
        return bytes
    }

    /// What `parse` found: the records in file order, the byte ranges that are not frames
    /// (zero runs excepted), and where the data ends (only zero bytes follow).
    struct Parsed: Equatable {
        var records: [JournalRecord] = []
        var unreadable: [Range<Int>] = []
        var end = 0
    }

    static func parse(_ bytes: [UInt8]) -> Parsed {
        var checksums: RangeChecksums?
        return parse(bytes, checksums: &checksums)!
    }

    /// `parse`, leaving in `checksums` what checked the frames (how many bytes it checksummed);
    /// nil if `stop` (asked after every MiB) said to give up (a SIGTERM during the start).
    ///
    /// Linear in `bytes.count` whatever the bytes: a frame's checksum is looked up in
    /// `RangeChecksums` (one pass over the buffer, then a constant per candidate frame) rather
    /// than computed over its claimed payload, which may hold any number of other candidate
    /// headers. A frame whose checksum holds but whose payload is not a record was written as a
    /// frame by somebody: it is damage as a whole, and nothing inside it is looked at again (a
    /// nest of such frames would otherwise cost their payload's UTF-8 validation each).
    static func parse(_ bytes: [UInt8], checksums: inout RangeChecksums?, stop: () -> Bool = { false }) -> Parsed? {
        bytes.withUnsafeBytes { raw in
            var sums = RangeChecksums(raw)
            defer { checksums = sums }
            return parse(bytes, raw, &sums, stop)
        }
    }

    private static func parse(
        _ bytes: [UInt8], _ raw: UnsafeRawBufferPointer, _ checksums: inout RangeChecksums, _ stop: () -> Bool
    ) -> Parsed? {
        var parsed = Parsed()
        var nextCheck = 1 << 20
        var damaged: Int?  // where the bytes being skipped began
        var offset = 0
        func endDamage(at end: Int) {
            guard let start = damaged else { return }
            var last = end
            while last > start && bytes[last - 1] == 0 { last -= 1 }
            if last > start {
                parsed.unreadable.append(start..<last)
                parsed.end = last
            }
            damaged = nil
        }
        while offset < bytes.count {
            if offset >= nextCheck {
                if stop() { return nil }
                nextCheck = offset + 1 << 20
            }
            if damaged == nil && bytes[offset] == 0 {
                offset = zerosEnd(in: raw, from: offset)  // no frame starts with a zero
                continue
            }
            switch frame(in: bytes, raw, at: offset, &checksums) {
            case .record(let record, let next):
                endDamage(at: offset)
                parsed.records.append(record)
                offset = next
                parsed.end = next
            case .notARecord(let next):
                if damaged == nil { damaged = offset }
                offset = next
            case nil:
                if damaged == nil { damaged = offset }
                offset += 1
                while offset < bytes.count && bytes[offset] != magic[0] { offset += 1 }
            }
        }
        endDamage(at: bytes.count)
        return parsed
    }

    /// Where the run of zero bytes at `offset` ends (the zeroed space ahead is most of a file
    /// read at start), eight bytes at a time.
    private static func zerosEnd(in raw: UnsafeRawBufferPointer, from offset: Int) -> Int {
        var at = offset
        while at + 8 <= raw.count && raw.loadUnaligned(fromByteOffset: at, as: UInt64.self) == 0 { at += 8 }
        while at < raw.count && raw[at] == 0 { at += 1 }
        return at
    }

    /// What starts at an offset: a frame holding a record (and where the next frame starts), a
    /// frame whose checksum holds over bytes that are not a record (and where it ends), or nil.
    private enum Frame {
        case record(JournalRecord, next: Int)
        case notARecord(next: Int)
    }

    private static func frame(in bytes: [UInt8], _ raw: UnsafeRawBufferPointer, at offset: Int, _ checksums: inout RangeChecksums) -> Frame? {
        guard bytes.count - offset >= headerSize, bytes[offset..<offset + 4].elementsEqual(magic) else { return nil }
        let length = Int(uint32(bytes, offset + 4))
        guard length <= maxPayload, bytes.count - offset - headerSize >= length else { return nil }
        let end = offset + headerSize + length
        let lengthBytes = UnsafeRawBufferPointer(rebasing: raw[offset + 4..<offset + 8])
        let crc = checksums.checksum(prefix: lengthBytes, then: offset + headerSize..<end, in: raw)
        guard crc == uint32(bytes, offset + 8) else { return nil }
        var reader = Reader(bytes: bytes, offset: offset + headerSize, end: end)
        guard let record = reader.record(), reader.offset == end else { return .notARecord(next: end) }
        return .record(record, next: end)
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let end: Int

        mutating func record() -> JournalRecord? {
            guard offset < end else { return nil }
            let kind = bytes[offset]
            offset += 1
            switch kind {
            case 1:
                guard let token = string(), let arn = string() else { return nil }
                return .started(token: TaskToken(token), activityArn: arn)
            case 2:
                guard let token = string(), let arn = string(), let output = string() else { return nil }
                return .result(token: TaskToken(token), activityArn: arn, .success(output: output))
            case 3:
                guard let token = string(), let arn = string(), let error = string(), let cause = string() else { return nil }
                return .result(token: TaskToken(token), activityArn: arn, .failure(error: error, cause: cause))
            case 4:
                return string().map { .cleared(fingerprint: $0) }
            default:
                return nil
            }
        }

        mutating func string() -> String? {
            guard end - offset >= 4 else { return nil }
            let length = Int(uint32(bytes, offset))
            offset += 4
            guard end - offset >= length else { return nil }
            defer { offset += length }
            return String(validating: bytes[offset..<offset + length], as: UTF8.self)
        }
    }

    private static func append(_ string: String, to bytes: inout [UInt8]) {
        var string = string
        string.withUTF8 { utf8 in
            bytes += littleEndian(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    private static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}
