import Dispatch

/// Runs blocking file-system work (the ledger's fsyncs) on threads of its own instead of Swift's
/// cooperative pool, which has one thread per core: a thread waiting for the disk there is a
/// core's worth of ready tasks (polls, heartbeats, deliveries) not running (docs/benchmark.md).
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
