import CChecksum

/// The CRC-32C of any range of a buffer in constant time, after one pass over the buffer: what
/// keeps `JournalFormat.parse` linear in the journal's size whatever its bytes. Checking each
/// candidate frame by checksumming its claimed payload cost up to `JournalFormat.maxPayload`
/// (4 MiB) per frame header, so a run of forged headers each claiming 4 MiB made the start
/// quadratic (1 MiB of them took 5.7 s, 4 MiB 93 s).
///
/// The pass keeps the CRC register every `stride` bytes. CRC-32C without its inversions is
/// linear over GF(2): the register after bytes `s..<e` started from zero is
/// `R(e) ⊕ R(s)·x^(8(e−s)) mod P`, where `R(i)` is the register after the first `i` bytes. So a
/// range costs two register values (each at most `stride − 1` bytes past a kept one) and one
/// multiplication by a power of x looked up in three tables, as zlib's `crc32_combine` does.
/// `bytesChecksummed` counts the bytes run through the CRC, for the test that proves the bound:
/// the buffer once, plus at most `2 × (stride − 1)` per range.
struct RangeChecksums {
    static let stride = 32
    /// The reflected CRC-32C polynomial.
    private static let polynomial: UInt32 = 0x82F6_3B78

    private let kept: [UInt32]
    private(set) var bytesChecksummed = 0

    init(_ raw: UnsafeRawBufferPointer) {
        var kept: [UInt32] = [0]
        kept.reserveCapacity(raw.count / Self.stride + 1)
        var register: UInt32 = 0
        var at = 0
        while at + Self.stride <= raw.count {
            register = Self.advance(register, UnsafeRawBufferPointer(rebasing: raw[at..<at + Self.stride]))
            kept.append(register)
            at += Self.stride
        }
        self.kept = kept
        bytesChecksummed = at
    }

    /// The CRC-32C of `prefix` (at most 4 bytes, not in `raw`) followed by `raw[range]`: the
    /// value `CRC32C.checksum` gives for those bytes, without running through the range.
    mutating func checksum(prefix: UnsafeRawBufferPointer, then range: Range<Int>, in raw: UnsafeRawBufferPointer) -> UInt32 {
        let start = Self.advance(~0, prefix)  // the register after the standard's initial ~0 and `prefix`
        let inner = register(at: range.upperBound, raw) ^ Self.shift(register(at: range.lowerBound, raw), by: range.count)
        bytesChecksummed += prefix.count
        return ~(inner ^ Self.shift(start, by: range.count))
    }

    /// The register after the first `offset` bytes of `raw`, started from zero.
    private mutating func register(at offset: Int, _ raw: UnsafeRawBufferPointer) -> UInt32 {
        let base = offset / Self.stride * Self.stride
        bytesChecksummed += offset - base
        return Self.advance(kept[offset / Self.stride], UnsafeRawBufferPointer(rebasing: raw[base..<offset]))
    }

    /// The CRC register after `bytes`, from `register`, with neither of the standard's inversions.
    private static func advance(_ register: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return register }
        return ~cchecksum_crc32c(~register, base, bytes.count)
    }

    /// `register` followed by `count` zero bytes: `register · x^(8·count) mod P`.
    static func shift(_ register: UInt32, by count: Int) -> UInt32 {
        precondition(count >= 0 && count < 1 << 24, "a range longer than any frame")
        var value = register
        for (k, table) in powers.enumerated() {
            let digit = count >> (8 * k) & 0xFF
            if digit != 0 { value = multiply(table[digit], value) }
        }
        return value
    }

    /// `powers[k][j]` is `x^(8·j·256^k) mod P`, for counts below 2^24 (16 MiB).
    private static let powers: [[UInt32]] = {
        var tables: [[UInt32]] = []
        var unit: UInt32 = 1 << 23  // x^8, one zero byte, in the reflected representation
        for _ in 0..<3 {
            var table: [UInt32] = [1 << 31]  // x^0
            for _ in 1..<256 { table.append(multiply(table[table.count - 1], unit)) }
            tables.append(table)
            unit = multiply(table[255], unit)  // x^(8·256^(k+1))
        }
        return tables
    }()

    /// `a · b mod P` over GF(2), both reflected (bit 31 is x^0).
    private static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var product: UInt32 = 0
        var a = a, b = b
        while a != 0 {
            if a & (1 << 31) != 0 { product ^= b }
            a <<= 1
            b = b & 1 != 0 ? (b >> 1) ^ polynomial : b >> 1
        }
        return product
    }
}
