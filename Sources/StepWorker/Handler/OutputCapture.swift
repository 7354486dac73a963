#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
/// leniently), each line (or piece of a split one) let through or dropped by a
/// `LineRateLimiter` when it begins, and its last bytes kept for the failure cause whatever was
/// dropped. A dropped line costs a scan for its newline and nothing else: it is neither copied
/// nor decoded, so a handler flooding stderr costs the daemon little more than the reads.
struct StderrCollector: Sendable {
    let maxLineBytes: Int
    let tailBytes: Int
    private var pending: [UInt8] = []
    /// The current line was admitted or refused (its first byte has been read).
    private var decided = false
    /// The current line was refused: its bytes are skipped up to its end.
    private var skipping = false
    /// Bytes of the current line so far, kept or skipped.
    private var lineBytes = 0
    private var tail: [UInt8] = []

    init(maxLineBytes: Int = 8192, tailBytes: Int = 4096) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.tailBytes = max(0, tailBytes)
    }

    /// Adds bytes read at `now`; returns the complete lines they finish that `limiter` let
    /// through, without their newlines.
    mutating func append(_ chunk: UnsafeRawBufferPointer, limiter: inout LineRateLimiter, now: Int64) -> [String] {
        appendTail(chunk)
        guard let base = chunk.baseAddress else { return [] }
        var lines: [String] = []
        var offset = 0
        while offset < chunk.count {
            if !decided {
                decided = true
                skipping = !limiter.admit(now: now)
            }
            let span = min(maxLineBytes - lineBytes, chunk.count - offset)
            let newline = memchr(base + offset, Int32(UInt8(ascii: "\n")), span)
            var end = offset + span
            if let newline { end = base.distance(to: UnsafeRawPointer(newline)) }
            if !skipping { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[offset..<end])) }
            lineBytes += end - offset
            if newline != nil {
                offset = end + 1
                endLine(&lines)
            } else {
                offset = end
                if lineBytes >= maxLineBytes { endLine(&lines) }
            }
        }
        return lines
    }

    private mutating func endLine(_ lines: inout [String]) {
        if !skipping {
            lines.append(Self.decode(pending))
            pending.removeAll(keepingCapacity: true)
        }
        lineBytes = 0
        decided = false
        skipping = false
    }

    /// The unfinished last line, if any (at EOF).
    mutating func flush() -> String? {
        defer {
            pending.removeAll()
            lineBytes = 0
            decided = false
            skipping = false
        }
        return skipping || pending.isEmpty ? nil : Self.decode(pending)
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
