import NIOHTTP1
import Foundation
import Logging
import StepWorkerTestKit
import Testing
@testable import StepFunctions

/// The cache in front of a real source (the container provider against a loopback stand-in),
/// counting refreshes at the stand-in.
@Suite(.timeLimit(.minutes(1))) struct CachingCredentialProviderTests {
    /// Credentials valid one hour from the clock's start: expire at start + 3600.
    static let lifetime: TimeInterval = 3600

    /// A container endpoint answering `ASIA<n>` for the n-th request, expiring `lifetime` after
    /// the clock's time; `failing` makes it answer 500; `gate` holds answers until opened.
    final class ContainerStandIn: Sendable {
        let failing: Locked<Bool>
        let gate: Locked<Gate?>
        let clock: TestClock
        let standIn: StandIn

        init(clock: TestClock) async throws {
            self.clock = clock
            let failing = Locked(false)
            let gate = Locked<Gate?>(nil)
            let counter = Locked(0)
            self.failing = failing
            self.gate = gate
            standIn = try await StandIn.start { _ in
                if let gate = gate.value { await gate.wait() }
                if failing.value { return .status(.internalServerError) }
                let n = counter.withLock { $0 += 1; return $0 }
                let expiration = iso8601(clock.now.addingTimeInterval(CachingCredentialProviderTests.lifetime))
                return .text(#"{"AccessKeyId":"ASIA\#(n)","SecretAccessKey":"s","Token":"t","Expiration":"\#(expiration)"}"#)
            }
        }

        var fetches: Int { standIn.requests.count }

        func cache(_ client: HTTP1Client, jitter: Double = 0, logger: Logger = Logger(label: "test")) -> CachingCredentialProvider {
            let source = ContainerCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"], httpClient: client, logger: logger,
                relativeBaseURL: standIn.baseURL, timeout: standInTimeout)
            return CachingCredentialProvider(wrapping: source, jitter: FixedJitter([jitter]), logger: logger, now: clock.function)
        }
    }

    @Test func cachedCredentialsAreNotFetchedOnEveryCall() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        try await withHTTPClient { client async throws in
            let cache = endpoint.cache(client)
            for _ in 0..<10 { #expect(try await cache.credentials().accessKeyID == "ASIA1") }
            endpoint.clock.advance(by: 1800)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")
        }
        await endpoint.standIn.shutdown()
        #expect(endpoint.fetches == 1)
    }

    @Test func refreshHappensFiveMinutesAheadOfExpiry() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        try await withHTTPClient { client in
            let cache = endpoint.cache(client)
            _ = try await cache.credentials()
            endpoint.clock.advance(by: Self.lifetime - 301)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")
            endpoint.clock.advance(by: 2)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")  // still valid; refreshing behind
            await cache.backgroundRefreshSettled()
            #expect(try await cache.credentials().accessKeyID == "ASIA2")
            #expect(try await cache.credentials().accessKeyID == "ASIA2")
        }
        await endpoint.standIn.shutdown()
        #expect(endpoint.fetches == 2)
    }

    @Test func jitterMovesTheRefreshEarlierByUpToAMinute() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        try await withHTTPClient { client in
            let cache = endpoint.cache(client, jitter: 0.5)  // 300 s + 30 s early
            _ = try await cache.credentials()
            endpoint.clock.advance(by: Self.lifetime - 331)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")
            await cache.backgroundRefreshSettled()
            #expect(endpoint.fetches == 1)
            endpoint.clock.advance(by: 2)
            _ = try await cache.credentials()
            await cache.backgroundRefreshSettled()
            #expect(try await cache.credentials().accessKeyID == "ASIA2")
        }
        await endpoint.standIn.shutdown()
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        let gate = Gate()
        endpoint.gate.value = gate
        try await withHTTPClient { client in
            let cache = endpoint.cache(client)
            // No credentials yet: every caller waits for the one fetch.
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await cache.credentials().accessKeyID } }
                #expect(try await waitUntil { endpoint.fetches == 1 })
                gate.open()
                for try await keyID in group { #expect(keyID == "ASIA1") }
            }
            // Expired: again one fetch for all.
            endpoint.clock.advance(by: Self.lifetime)
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await cache.credentials().accessKeyID } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids == ["ASIA2"])
        }
        await endpoint.standIn.shutdown()
        #expect(endpoint.fetches == 2)
    }

    @Test func callersKeepValidCredentialsWhileARefreshIsUnderWay() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        try await withHTTPClient { client in
            let cache = endpoint.cache(client)
            _ = try await cache.credentials()
            let gate = Gate()
            endpoint.gate.value = gate
            endpoint.clock.advance(by: Self.lifetime - 200)  // in the refresh window, still valid
            // The caller that starts the refresh does not wait for it either.
            #expect(try await cache.credentials().accessKeyID == "ASIA1")
            #expect(try await waitUntil { endpoint.fetches == 2 })
            for _ in 0..<5 { #expect(try await cache.credentials().accessKeyID == "ASIA1") }
            gate.open()
            await cache.backgroundRefreshSettled()
            #expect(try await cache.credentials().accessKeyID == "ASIA2")
        }
        await endpoint.standIn.shutdown()
        #expect(endpoint.fetches == 2)
    }

    @Test func failedRefreshKeepsValidCredentialsAndRetriesWithBackoff() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        let (logger, logs) = RecordingLogHandler.logger()
        try await withHTTPClient { client in
            // Jitter 0.5: refresh 330 s early; retries after 0.5 s, 1 s, 2 s, … (base 1 s).
            let cache = endpoint.cache(client, jitter: 0.5, logger: logger)
            _ = try await cache.credentials()
            endpoint.failing.value = true
            endpoint.clock.advance(by: Self.lifetime - 300)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")  // refresh fails behind, old creds kept
            await cache.backgroundRefreshSettled()
            #expect(endpoint.fetches == 2)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")  // backing off: no fetch
            await cache.backgroundRefreshSettled()
            #expect(endpoint.fetches == 2)
            endpoint.clock.advance(by: 0.6)
            #expect(try await cache.credentials().accessKeyID == "ASIA1")  // second failure
            await cache.backgroundRefreshSettled()
            #expect(endpoint.fetches == 3)
            endpoint.clock.advance(by: 0.9)
            _ = try await cache.credentials()
            await cache.backgroundRefreshSettled()
            #expect(endpoint.fetches == 3)  // next retry is 1 s after the second failure
            endpoint.clock.advance(by: 0.2)
            endpoint.failing.value = false
            #expect(try await cache.credentials().accessKeyID == "ASIA1")
            await cache.backgroundRefreshSettled()
            #expect(try await cache.credentials().accessKeyID == "ASIA2")
            #expect(endpoint.fetches == 4)
        }
        await endpoint.standIn.shutdown()
        #expect(logs.all.filter { $0.hasPrefix("warning Credential refresh failed; keeping cached credentials") }.count == 2)
    }

    @Test func expiredCredentialsAreNotHandedOutWhenRefreshFails() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        try await withHTTPClient { client in
            let cache = endpoint.cache(client)
            _ = try await cache.credentials()
            endpoint.failing.value = true
            endpoint.clock.advance(by: Self.lifetime - 5)  // inside the 10 s expiry margin
            let error = await #expect(throws: CredentialError.self) { try await cache.credentials() }
            #expect(error?.code == .retrievalFailed)
        }
        await endpoint.standIn.shutdown()
    }

    @Test func longTermCredentialsAreFetchedOnce() async throws {
        struct Counting: CredentialProvider {
            let calls = Locked(0)
            func credentials() async throws -> AWSCredentials {
                calls.withLock { $0 += 1 }
                return AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")
            }
        }
        let source = Counting()
        let clock = TestClock()
        let cache = CachingCredentialProvider(wrapping: source, logger: Logger(label: "test"), now: clock.function)
        _ = try await cache.credentials()
        clock.advance(by: 86_400 * 365)
        #expect(try await cache.credentials().accessKeyID == "AKIA")
        #expect(source.calls.value == 1)
    }

    @Test func failureWithNothingCachedIsRethrownUntilTheBackoffEnds() async throws {
        let endpoint = try await ContainerStandIn(clock: TestClock())
        endpoint.failing.value = true
        try await withHTTPClient { client async throws in
            // Jitter 0.5: the first retry is 0.5 s after the failure, the second 1 s after that.
            let cache = endpoint.cache(client, jitter: 0.5)
            for _ in 0..<5 {
                let error = await #expect(throws: CredentialError.self) { try await cache.credentials() }
                #expect(error?.code == .retrievalFailed)
            }
            #expect(endpoint.fetches == 1)
            endpoint.clock.advance(by: 0.6)
            await #expect(throws: CredentialError.self) { try await cache.credentials() }
            #expect(endpoint.fetches == 2)
            endpoint.clock.advance(by: 0.9)
            await #expect(throws: CredentialError.self) { try await cache.credentials() }
            #expect(endpoint.fetches == 2)
            endpoint.clock.advance(by: 0.2)
            endpoint.failing.value = false
            #expect(try await cache.credentials().accessKeyID == "ASIA1")
            #expect(endpoint.fetches == 3)
        }
        await endpoint.standIn.shutdown()
    }

    @Test func heldRefreshDoesNotBlockCallersInTheRefreshWindow() async throws {
        struct Held: CredentialProvider {
            let calls = Locked(0)
            let gate: Gate
            let clock: TestClock
            func credentials() async throws -> AWSCredentials {
                let n = calls.withLock { $0 += 1; return $0 }
                if n > 1 { await gate.wait() }
                return AWSCredentials(accessKeyID: "ASIA\(n)", secretAccessKey: "s", expiration: clock.now.addingTimeInterval(3600))
            }
        }
        let clock = TestClock()
        let source = Held(gate: Gate(), clock: clock)
        let cache = CachingCredentialProvider(wrapping: source, jitter: FixedJitter([0]), logger: Logger(label: "test"), now: clock.function)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        clock.advance(by: 3600 - 200)
        let callers = Task { () async throws -> Void in
            for _ in 0..<5 { #expect(try await cache.credentials().accessKeyID == "ASIA1") }
        }
        // Returns although the refresh stays held: no caller waits for it.
        try await withTimeout(seconds: 5) { try await callers.value }
        #expect(source.calls.value == 2)
        source.gate.open()
        await cache.backgroundRefreshSettled()
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        #expect(source.calls.value == 2)
    }
}

/// Runs `body`, failing with `CancellationError` if it takes longer than `seconds`.
private func withTimeout(seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))); return false }
        let finished = try await group.next() ?? false
        group.cancelAll()
        if !finished { throw CancellationError() }
    }
}
