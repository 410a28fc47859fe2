public import Foundation
public import SigV4

/// Credentials that stop working at a known time.
public struct ExpiringCredentials: Sendable {
    public var credentials: Credentials
    /// When they expire (wall-clock time), or `nil` when they do not.
    public var expiration: Date?

    public init(credentials: Credentials, expiration: Date?) {
        self.credentials = credentials
        self.expiration = expiration
    }
}

/// Holds temporary credentials and fetches new ones shortly before they expire; concurrent callers share one
/// fetch.
///
/// Expiry is measured on an injected `Clock`: when credentials arrive, their remaining lifetime (expiration minus
/// the current wall-clock time) is added to the clock's `now`, and they are renewed once the clock passes that
/// deadline minus ``refreshWindow``. Tests use a manual clock to expire a session without waiting. If a renewal
/// fails while the old credentials are still valid, the old ones are returned (and renewal is tried again on the
/// next call).
///
/// ```swift
/// let provider = RefreshingCredentialProvider.assumingRole(
///     AssumeRoleRequest(roleArn: arn, roleSessionName: "consumer"), sts: sts)
/// let kms = try KMSClient(region: "us-east-1", credentialProvider: provider)
/// ```
public actor RefreshingCredentialProvider<C: Clock>: CredentialProvider where C.Duration == Duration {
    private struct Held {
        var credentials: Credentials
        var expiresAt: C.Instant?
    }

    private let fetch: @Sendable () async throws -> ExpiringCredentials
    private let clock: C
    private let wallClock: @Sendable () -> Date
    /// How long before expiry credentials are renewed.
    public let refreshWindow: Duration
    private var held: Held?
    private var inFlight: Task<Held, any Error>?
    /// How many times credentials were fetched (for diagnostics and tests).
    public private(set) var fetchCount = 0

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - clock: The clock expiry is measured on.
    ///   - refreshWindow: How long before expiry to renew (default 5 minutes).
    ///   - wallClock: The current wall-clock time, to turn an expiration date into a lifetime.
    ///   - fetch: Fetches new credentials.
    public init(
        clock: C,
        refreshWindow: Duration = .seconds(300),
        wallClock: @escaping @Sendable () -> Date = { Date() },
        fetch: @escaping @Sendable () async throws -> ExpiringCredentials
    ) {
        self.clock = clock
        self.refreshWindow = refreshWindow
        self.wallClock = wallClock
        self.fetch = fetch
    }

    public func credentials() async throws -> Credentials {
        let now = clock.now
        if let held, !needsRefresh(held, now: now) { return held.credentials }
        let task: Task<Held, any Error>
        if let inFlight {
            task = inFlight
        } else {
            task = Task { try await self.fetchOnce() }
            inFlight = task
        }
        do {
            let fresh = try await task.value
            if inFlight == task { inFlight = nil }
            held = fresh
            return fresh.credentials
        } catch {
            if inFlight == task { inFlight = nil }
            if let held, held.expiresAt.map({ clock.now < $0 }) ?? true { return held.credentials }
            throw error
        }
    }

    private func fetchOnce() async throws -> Held {
        let fetched = try await fetch()
        fetchCount += 1
        let expiresAt = fetched.expiration.map { expiration -> C.Instant in
            // Bounded to ±100 years: an expiration is whatever the credential source said, and no answer of
            // theirs may trap the conversion to milliseconds.
            let remaining = min(max(expiration.timeIntervalSince(wallClock()), -3.2e9), 3.2e9)
            return clock.now.advanced(by: .milliseconds(Int64((remaining * 1000).rounded(.down))))
        }
        return Held(credentials: fetched.credentials, expiresAt: expiresAt)
    }

    private func needsRefresh(_ held: Held, now: C.Instant) -> Bool {
        guard let expiresAt = held.expiresAt else { return false }
        return now >= expiresAt.advanced(by: .zero - refreshWindow)
    }
}

extension RefreshingCredentialProvider where C == ContinuousClock {
    /// Creates a provider on the continuous clock.
    public init(
        refreshWindow: Duration = .seconds(300),
        fetch: @escaping @Sendable () async throws -> ExpiringCredentials
    ) {
        self.init(clock: ContinuousClock(), refreshWindow: refreshWindow, fetch: fetch)
    }
}

extension RefreshingCredentialProvider {
    /// A provider of role-session credentials: it calls STS `AssumeRole` with the given request whenever the
    /// session is about to expire.
    ///
    /// - Parameters:
    ///   - request: The `AssumeRole` input (role ARN, session name, duration, external id, policy).
    ///   - sts: The STS client, signing with the source credentials.
    ///   - clock: The clock expiry is measured on.
    ///   - refreshWindow: How long before expiry to renew.
    /// - Returns: The provider.
    public static func assumingRole(
        _ request: AssumeRoleRequest,
        sts: STSClient,
        clock: C,
        refreshWindow: Duration = .seconds(300)
    ) -> RefreshingCredentialProvider<C> {
        RefreshingCredentialProvider(clock: clock, refreshWindow: refreshWindow) {
            let session = try await sts.assumeRole(request).credentials
            return ExpiringCredentials(
                credentials: Credentials(
                    accessKeyId: session.accessKeyId,
                    secretAccessKey: session.secretAccessKey,
                    sessionToken: session.sessionToken
                ),
                expiration: session.expiration
            )
        }
    }
}

extension RefreshingCredentialProvider where C == ContinuousClock {
    /// A provider of role-session credentials on the continuous clock.
    public static func assumingRole(
        _ request: AssumeRoleRequest,
        sts: STSClient,
        refreshWindow: Duration = .seconds(300)
    ) -> RefreshingCredentialProvider<ContinuousClock> {
        assumingRole(request, sts: sts, clock: ContinuousClock(), refreshWindow: refreshWindow)
    }
}
