/// Waits until `condition` holds, checking every 5 ms for at most `timeout` of real time; false
/// if it never did. The one wait helper of the test suites: for state that has no event to wait
/// for (counters, files, notifications already recorded).
public func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if try await condition() { return true }
        if clock.now >= deadline { return false }
        try await clock.sleep(for: .milliseconds(5))
    }
}

extension AsyncStream where Element: Sendable {
    /// The next element that satisfies `predicate`, skipping the others; nil when the stream ends
    /// or `timeout` of real time passes first. A timeout ends the stream for good (an `AsyncStream`
    /// ends when its consumer is cancelled): by then the test has failed anyway. `timeout` has no
    /// default, so a call is never taken for the unbounded `AsyncSequence.first(where:)`.
    public func first(
        where predicate: @escaping @Sendable (Element) -> Bool, timeout: Duration
    ) async -> Element? {
        await withTaskGroup(of: Element?.self) { group in
            group.addTask {
                for await element in self where predicate(element) { return element }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
