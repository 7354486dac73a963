/// Where the next byte is that a JSON string cannot hold as it is: `"`, `\` or a control
/// character. The request writer and the poll-answer reader copy everything before it whole;
/// the scan looks at 8 bytes at a time (a task token is a kilobyte or more without one).
enum JSONStringScan {
    /// The offset of the first such byte at or after `start`, or `bytes.count`.
    static func firstSpecial(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var offset = start
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while bytes.count - offset >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            // A byte below 0x20, or one equal to `"` or `\` (a zero byte after the XOR): the
            // usual "has a byte less than n" and "has a zero byte" tests, exact for any byte.
            let control = (word &- ones &* 0x20) & ~word & highs
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let equal = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs
            if control | equal != 0 { break }  // it is in these 8: found byte by byte below
            offset += 8
        }
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return offset }
            offset += 1
        }
        return offset
    }
}
