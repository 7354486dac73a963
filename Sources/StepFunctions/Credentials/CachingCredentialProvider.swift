public import FoundationEssentials
public import Logging
import POSIXSupport

/// Caches what another provider returns and refreshes it ahead of its expiration.
///
/// - Credentials without an expiration are fetched once.
/// - Temporary credentials are refreshed from `refreshAhead` (plus up to `refreshJitter`, at
///   random, so a fleet does not refresh at once) before they expire, never on every call.
/// - One refresh at a time: callers without usable credentials await that same refresh. In the
///   refresh window, while the cached credentials are still valid, the refresh runs in the
///   background and every caller (the one that started it too) gets the cached ones at once.
/// - A failed refresh while the cached credentials are still valid is logged and retried after a
///   backoff (`retryPolicy`, full jitter); callers meanwhile get the cached credentials. Once they
///   are within `expiryMargin` of expiring they are no longer handed out, and errors reach callers.
/// - With nothing usable cached, a failure is rethrown to callers until its backoff ends; only
///   then is the source asked again.
public actor CachingCredentialProvider: CredentialProvider {
    public struct Options: Sendable {
        public var refreshAhead: Duration
        public var refreshJitter: Duration
        public var expiryMargin: Duration
        public var retryPolicy: RetryPolicy

        public init(
            refreshAhead: Duration = .seconds(300), refreshJitter: Duration = .seconds(60), expiryMargin: Duration = .seconds(10),
            retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(1), maxDelay: .seconds(60))
        ) {
            self.refreshAhead = refreshAhead
            self.refreshJitter = refreshJitter
            self.expiryMargin = expiryMargin
            self.retryPolicy = retryPolicy
        }
    }

    private let source: any CredentialProvider
    private let options: Options
    private let jitter: any JitterSource
    private let now: @Sendable () -> Date
    private let logger: Logger

    private var cached: AWSCredentials?
    /// When to start refreshing the cached credentials; nil for ones that never expire.
    private var refreshAt: Date?
    private var inFlight: Task<AWSCredentials, any Error>?
    private var failedRefreshes = 0
    private var retryAt: Date?
    /// The error of the last failed refresh, rethrown until `retryAt` when nothing usable is cached.
    private var lastError: (any Error)?
    /// The background refresh started in the refresh window.
    private var settling: Task<Void, Never>?

    public init(
        wrapping source: any CredentialProvider, options: Options = Options(), jitter: any JitterSource = SystemJitter(),
        logger: Logger, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.source = source
        self.options = options
        self.jitter = jitter
        self.logger = logger
        self.now = now
    }

    public func credentials() async throws -> AWSCredentials {
        let current = now()
        guard let cached, isUsable(cached, at: current) else {
            // Nothing usable: after a failure, the same error until the backoff ends, rather than
            // running the source (a whole chain) again on every call.
            if inFlight == nil, let lastError, let retryAt, current < retryAt { throw lastError }
            return try await refresh()
        }
        if let refreshAt, current >= refreshAt, inFlight == nil, retryAt.map({ current >= $0 }) ?? true {
            // Due for refresh but still valid: refresh in the background; nobody waits for it.
            let task = Task { [source] in try await source.credentials() }
            inFlight = task
            settling = Task { _ = try? await self.settle(task) }
        }
        return cached
    }

    /// Returns once the background refresh under way, if any, has been settled (for tests).
    func backgroundRefreshSettled() async {
        await settling?.value
    }

    private func isUsable(_ credentials: AWSCredentials, at now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        return now < expiration.addingTimeInterval(-options.expiryMargin.timeInterval)
    }

    /// Joins the refresh under way, or starts one and waits for it.
    private func refresh() async throws -> AWSCredentials {
        if let inFlight { return try await inFlight.value }
        let task = Task { [source] in try await source.credentials() }
        inFlight = task
        return try await settle(task)
    }

    /// Waits for the refresh `task` (the one in `inFlight`) and records how it went.
    private func settle(_ task: Task<AWSCredentials, any Error>) async throws -> AWSCredentials {
        do {
            let fresh = try await task.value
            inFlight = nil
            store(fresh)
            return fresh
        } catch {
            inFlight = nil
            failedRefreshes += 1
            lastError = error
            let delay = options.retryPolicy.delay(beforeRetry: failedRefreshes - 1, unitRandom: jitter.next())
            retryAt = now().addingTimeInterval(delay.timeInterval)
            let metadata: Logger.Metadata = [
                "error": "\(error)", "failures": "\(failedRefreshes)", "retry_delay_ms": "\(delay.milliseconds)",
            ]
            if cached.map({ isUsable($0, at: now()) }) ?? false {
                // Callers keep working with the cached credentials and would not hear of this.
                logger.warning("Credential refresh failed; keeping cached credentials", metadata: metadata)
            } else {
                // The error reaches the caller, who decides how loud to be.
                logger.debug("Credential fetch failed", metadata: metadata)
            }
            throw error
        }
    }

    private func store(_ fresh: AWSCredentials) {
        cached = fresh
        failedRefreshes = 0
        retryAt = nil
        lastError = nil
        let fetchedAt = now()
        if let expiration = fresh.expiration {
            let early = options.refreshAhead.timeInterval + options.refreshJitter.timeInterval * jitter.next()
            // Credentials that arrive already inside the window are not refreshed on every call.
            refreshAt = max(expiration.addingTimeInterval(-early), fetchedAt.addingTimeInterval(min(60, expiration.timeIntervalSince(fetchedAt) / 2)))
        } else {
            refreshAt = nil
        }
        logger.debug("Credentials cached", metadata: [
            "access_key_id": "\(fresh.accessKeyID)",
            "expiration": "\(fresh.expiration.map { "\($0)" } ?? "none")",
            "refresh_at": "\(refreshAt.map { "\($0)" } ?? "never")",
        ])
    }
}
