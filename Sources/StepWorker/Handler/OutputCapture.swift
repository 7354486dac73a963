/// A handler's stdout, kept up to a limit: bytes past it are counted and dropped, so a handler
/// writing gigabytes costs the daemon `limit` bytes of memory, never more.
struct OutputCapture: Sendable {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    /// Everything the handler wrote, kept or not.
    private(set) var totalBytes = 0

    init(limit: Int) {
        self.limit = max(0, limit)
        bytes.reserveCapacity(min(self.limit, 65_536))
    }

    var overflowed: Bool { totalBytes > limit }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        totalBytes += chunk.count
        let room = limit - bytes.count
        guard room > 0 else { return }
        bytes.append(contentsOf: chunk.prefix(room))
    }
}

/// A handler's stderr: cut into lines for the log (overlong lines split, any bytes decoded
/// leniently), and its last bytes kept for the failure cause.
struct StderrCollector: Sendable {
    let maxLineBytes: Int
    let tailBytes: Int
    private var pending: [UInt8] = []
    private var tail: [UInt8] = []

    init(maxLineBytes: Int = 8192, tailBytes: Int = 4096) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.tailBytes = max(0, tailBytes)
    }

    /// Adds bytes; returns the complete lines they finish, without their newlines.
    mutating func append(_ chunk: UnsafeRawBufferPointer) -> [String] {
        appendTail(chunk)
        var lines: [String] = []
        for byte in chunk {
            if byte == UInt8(ascii: "\n") {
                lines.append(Self.decode(pending))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count >= maxLineBytes {
                    lines.append(Self.decode(pending))
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }

    /// The unfinished last line, if any (at EOF).
    mutating func flush() -> String? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return Self.decode(pending)
    }

    /// The last `tailBytes` bytes of stderr as text, starting on a character boundary.
    var tailText: String {
        var start = tail.startIndex
        while start < tail.endIndex, start < tail.startIndex + 3, tail[start] & 0xC0 == 0x80 {
            start += 1
        }
        return Self.decode(tail[start...])
    }

    private mutating func appendTail(_ chunk: UnsafeRawBufferPointer) {
        guard tailBytes > 0 else { return }
        if chunk.count >= tailBytes {
            tail = Array(chunk.suffix(tailBytes))
        } else {
            tail.append(contentsOf: chunk)
            if tail.count > tailBytes { tail.removeFirst(tail.count - tailBytes) }
        }
    }

    /// UTF-8 with invalid sequences replaced by U+FFFD; a trailing `\r` dropped.
    static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
