import Dispatch

/// Runs blocking file-system work (the ledger's recovery at start) on a dispatch queue instead of
/// as a job of Swift's cooperative pool. On Linux this queue's threads come from libdispatch's
/// global pool, which Swift's default executor shares (strace of the bench showed the ledger's
/// fsyncs and the daemon's log writes on the same two or three threads), so a long wait here
/// still costs the pool a thread: work on every task's path does not belong here (the journal's
/// records are written on its own thread, `JournalCommitter`).
enum BlockingIO {
    private static let queue = DispatchQueue(label: "stepworker.ledger-io", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    static func run(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            queue.async {
                body()
                continuation.resume()
            }
        }
    }
}
