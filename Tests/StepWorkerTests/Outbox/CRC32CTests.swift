@testable import StepWorker
import Testing

/// The journal's checksum is on disk: whatever computes it must give the standard CRC-32C.
@Suite("CRC32C: the journal frames' checksum")
struct CRC32CTests {
    /// The bit-by-bit definition (reflected, polynomial 0x82F63B78), slow and plain.
    static func reference(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        var crc = ~crc
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func theCheckValueOfTheStandard() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test func everyLengthAndAlignmentMatchesTheDefinitionAndAChecksumCanBeContinued() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for end in stride(from: start, through: bytes.count, by: 7) {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    let expected = Self.reference(Array(bytes[start..<end]))
                    #expect(CRC32C.checksum(slice) == expected, "bytes \(start)..<\(end)")
                    let middle = (start + end) / 2
                    let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<middle]))
                    #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[middle..<end]), continuing: first) == expected)
                }
            }
        }
    }
}
