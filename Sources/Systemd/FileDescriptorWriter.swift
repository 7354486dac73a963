import POSIXSupport

/// Writes with write(2), straight to the file descriptor: no stdio buffer to flush, so lines
/// reach a pipe (or the journal's stdout stream) at once, not at exit.
enum FileDescriptorWriter {
    /// Writes all of `text` with one write(2) when the descriptor takes it whole (always, for a
    /// pipe and up to PIPE_BUF bytes, so concurrent lines never interleave), retrying the rest
    /// after a short write or EINTR. Gives up silently on other errors: logging must not fail.
    static func writeAll(_ text: String, to fd: Int32) {
        try? POSIX.writeAll(text, to: fd)
    }
}
