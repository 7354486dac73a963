import CChecksum

/// CRC-32C (Castagnoli) of journal frames: `cchecksum_crc32c`, the CPU's crc32 instruction where
/// there is one (the table-driven byte loop it replaced was 2% of the daemon's instructions per
/// task, for two frames of a kilobyte each).
enum CRC32C {
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return cchecksum_crc32c(crc, base, bytes.count)
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
