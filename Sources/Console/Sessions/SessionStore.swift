public import Foundation
import Crypto
import SealedSupport
import Synchronization

/// Who a console session acts as: the principal an access key belongs to, and that key.
public struct ConsolePrincipal: Sendable, Hashable {
    /// The principal's ARN, as a signed request by ``accessKeyId`` would name it.
    public var arn: String
    /// The access key the session was opened with; it must stay active for the session to.
    public var accessKeyId: String
    /// When the key's credentials expire (a role session's), if they do: the console session ends then too.
    public var credentialExpiration: Date?

    public init(arn: String, accessKeyId: String, credentialExpiration: Date? = nil) {
        self.arn = arn
        self.accessKeyId = accessKeyId
        self.credentialExpiration = credentialExpiration
    }
}

/// One browser's session: a random 256-bit id (the cookie), a per-session CSRF token every form carries, and, once
/// signed in, the principal it acts as. Anonymous sessions exist only to protect the sign-in forms themselves.
public struct ConsoleSession: Sendable {
    /// The cookie's value: 64 hex digits of fresh randomness. Kept in memory only by the store, as its SHA-256.
    public let id: String
    /// The token every form of this session must send back (64 hex digits).
    public let csrfToken: String
    /// The signed-in principal; `nil` before sign-in.
    public let principal: ConsolePrincipal?
    public let creationDate: Date
    public var lastUsed: Date
    /// A one-time message for the next page (after a form's redirect).
    public var notice: Notice?

    /// A message shown once on the next page.
    public struct Notice: Sendable, Hashable {
        public var text: String
        public var isError: Bool
        public init(_ text: String, isError: Bool = false) {
            self.text = text
            self.isError = isError
        }
    }

    /// Whether `token` is this session's CSRF token, compared in constant time.
    public func acceptsCSRFToken(_ token: String?) -> Bool {
        guard let token else { return false }
        return ConstantTime.equal(Array(token.utf8), Array(csrfToken.utf8))
    }
}

/// Comparison whose time depends on the lengths only, never on where the inputs differ.
package enum ConstantTime {
    package static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// The console's sessions, in memory: they do not survive a restart (everyone signs in again).
///
/// A session ends after ``Policy/idleTimeout`` without a request, at ``Policy/absoluteTimeout`` after sign-in whatever
/// happens, when its credentials expire, and at sign-out. Signing in replaces the anonymous session with a new id
/// and a new CSRF token (no session fixation). The store is bounded (``Policy/maximumSessions``): when full, expired
/// sessions go first, then anonymous ones, oldest first, then the oldest signed-in ones.
///
/// Sessions are found by the SHA-256 of their id, so neither a lookup's timing nor a copy of the table gives an id.
public final class SessionStore: Sendable {
    /// How long sessions live and how many there may be.
    public struct Policy: Sendable, Hashable {
        public var idleTimeout: Duration
        public var absoluteTimeout: Duration
        public var maximumSessions: Int

        public init(
            idleTimeout: Duration = .seconds(30 * 60),
            absoluteTimeout: Duration = .seconds(12 * 3600),
            maximumSessions: Int = 10_000
        ) {
            self.idleTimeout = idleTimeout
            self.absoluteTimeout = absoluteTimeout
            self.maximumSessions = max(1, maximumSessions)
        }
    }

    public let policy: Policy
    private let sessions = Mutex<[String: ConsoleSession]>([:])
    private let now: @Sendable () -> Date

    public init(policy: Policy = Policy(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.now = now
    }

    /// How many sessions are held now.
    public var count: Int { sessions.withLock { $0.count } }

    /// A new anonymous session, for a sign-in form.
    public func startAnonymous() -> ConsoleSession {
        insert(principal: nil)
    }

    /// Signs `principal` in: ends the session `previousID` (the anonymous one of the form, if any) and returns a new
    /// session with a fresh id and CSRF token.
    public func signIn(_ principal: ConsolePrincipal, replacing previousID: String?) -> ConsoleSession {
        if let previousID { end(previousID) }
        return insert(principal: principal)
    }

    /// The live session with this id, its last use moved to now; `nil` (and the session forgotten) when it is
    /// unknown, idle too long, past its absolute limit or its credentials' expiration.
    public func session(_ id: String) -> ConsoleSession? {
        let at = now()
        let key = Self.key(id)
        return sessions.withLock { sessions -> ConsoleSession? in
            guard var session = sessions[key] else { return nil }
            guard isLive(session, at: at) else {
                sessions[key] = nil
                return nil
            }
            session.lastUsed = at
            sessions[key] = session
            return session
        }
    }

    /// Takes the session's one-time notice (the live session's; `nil` when it has none).
    public func takeNotice(_ id: String) -> ConsoleSession.Notice? {
        sessions.withLock { sessions in
            let key = Self.key(id)
            defer { sessions[key]?.notice = nil }
            return sessions[key]?.notice
        }
    }

    /// Leaves a one-time notice for the session's next page.
    public func setNotice(_ notice: ConsoleSession.Notice, for id: String) {
        sessions.withLock { $0[Self.key(id)]?.notice = notice }
    }

    /// Ends a session (sign-out); an unknown id is ignored.
    public func end(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Self.key(id)) }
    }

    private func insert(principal: ConsolePrincipal?) -> ConsoleSession {
        let at = now()
        let session = ConsoleSession(
            id: Hex.encode(Random.bytes(32)),
            csrfToken: Hex.encode(Random.bytes(32)),
            principal: principal,
            creationDate: at,
            lastUsed: at
        )
        sessions.withLock { sessions in
            if sessions.count >= policy.maximumSessions { makeRoom(in: &sessions, at: at) }
            sessions[Self.key(session.id)] = session
        }
        return session
    }

    /// Drops expired sessions; if that is not enough, the oldest anonymous ones, then the oldest of all.
    private func makeRoom(in sessions: inout [String: ConsoleSession], at: Date) {
        sessions = sessions.filter { isLive($0.value, at: at) }
        guard sessions.count >= policy.maximumSessions else { return }
        let victims = sessions.sorted { lhs, rhs in
            let lhsAnonymous = lhs.value.principal == nil
            let rhsAnonymous = rhs.value.principal == nil
            if lhsAnonymous != rhsAnonymous { return lhsAnonymous }
            return lhs.value.lastUsed < rhs.value.lastUsed
        }
        for victim in victims.prefix(sessions.count - policy.maximumSessions + 1) { sessions[victim.key] = nil }
    }

    private func isLive(_ session: ConsoleSession, at: Date) -> Bool {
        if at.timeIntervalSince(session.lastUsed) >= policy.idleTimeout.timeInterval { return false }
        if at.timeIntervalSince(session.creationDate) >= policy.absoluteTimeout.timeInterval { return false }
        if let expiration = session.principal?.credentialExpiration, at >= expiration { return false }
        return true
    }

    static func key(_ id: String) -> String { Hex.encode(SHA256.hash(data: Array(id.utf8))) }
}
