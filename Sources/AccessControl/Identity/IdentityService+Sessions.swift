public import Foundation
import SealedSupport

extension IdentityService {
    /// STS `AssumeRole`: temporary credentials of `roleArn` for `caller`, when the role's trust policy allows it.
    ///
    /// The trust policy is evaluated against the caller's exact ARN (a user, or a role session and its role) with
    /// `aws:CurrentTime` and `aws:SourceIp`; a grant's `DateLessThan` condition therefore ends access at its expiry
    /// even before the expiry sweep removes it. A role that does not exist is refused exactly like one that does not
    /// trust the caller, so the answer does not reveal which roles exist.
    ///
    /// With a store other processes write too (``IdentityStore/roleVersion(named:)``), the role's stored version is
    /// read first and the directory reloaded when it differs: a grant given or revoked through another replica counts
    /// from its commit on.
    ///
    /// A session ends no later than the access grant it was issued under: when the caller (or its role) holds a
    /// grant of the access workflow that expires, the session expires with it, even if that is sooner than
    /// `duration`.
    ///
    /// - Parameters:
    ///   - duration: Seconds, 900 up to the role's `MaxSessionDuration` (default 3,600).
    /// - Throws: ``AccessControlError`` `accessDenied`, `validationError`.
    public func assumeRole(
        _ roleArn: String,
        sessionName: String,
        duration: Int?,
        caller: String,
        sourceIP: String?
    ) async throws -> RoleSession {
        try Names.validateSessionName(sessionName)
        let denied = AccessControlError(
            .accessDenied,
            "User: \(caller) is not authorized to perform: sts:AssumeRole on resource: \(roleArn)"
        )
        guard let name = roleName(of: roleArn) else { throw denied }
        // A store shared with other processes: the role's trust policy as stored now, not as last reloaded.
        if let stored = try await store.roleVersion(named: name), stored != (snapshot.roles[name]?.version ?? 0) {
            try await reload()
        }
        guard let role = snapshot.roles[name] else { throw denied }
        let seconds = duration ?? 3600
        guard seconds >= 900 else {
            throw AccessControlError(
                .validationError,
                "1 validation error detected: Value '\(seconds)' at 'durationSeconds' failed to satisfy constraint: "
                    + "Member must have value greater than or equal to 900"
            )
        }
        guard seconds <= role.maxSessionDuration else {
            throw AccessControlError(
                .validationError,
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        }
        let at = now()
        guard let trust = try? policyCache.policy(for: role.trustPolicy, kind: .trust) else { throw denied }
        let decision = PolicyEvaluator.evaluateAssumeRole(
            caller: CallerIdentity(arn: caller, account: account),
            roleArn: role.arn,
            trustPolicy: trust,
            identityPolicies: identityPolicies(of: caller),
            context: RequestContext(sourceIP: sourceIP, currentTime: at)
        )
        guard decision.isAllowed else { throw denied }
        var expiration = at.addingTimeInterval(Double(seconds))
        if let grantEnd = TrustGrants(parsing: role.trustPolicy).end(of: [caller, baseIdentity(of: caller)]) {
            expiration = min(expiration, grantEnd)
        }
        let arn = "arn:aws:sts::\(account):assumed-role/\(role.name)/\(sessionName)"
        let key = AccessKey.generateSession(for: arn, expiration: expiration, at: at)
        try await credentials.create(key)
        return RoleSession(arn: arn, assumedRoleID: "\(Self.roleID(of: role)):\(sessionName)", accessKey: key)
    }

    /// STS `GetCallerIdentity`: the `UserId`, `Account` and `Arn` of a principal.
    public nonisolated func callerIdentity(of principal: String) -> (userID: String, account: String, arn: String) {
        if let name = userName(of: principal) {
            return (Self.uniqueID(prefix: "AIDA", of: "user/\(name)"), account, principal)
        }
        let caller = CallerIdentity(arn: principal, account: account)
        if let roleArn = caller.roleArn, let name = roleName(of: roleArn) {
            let session = principal.split(separator: "/").last.map(String.init) ?? ""
            return ("\(Self.uniqueID(prefix: "AROA", of: "role/\(name)")):\(session)", account, principal)
        }
        return (account, account, principal)
    }

    /// A stable id shaped like AWS's unique ids (`AIDA…`, `AROA…`), derived from the entity's name.
    static func uniqueID(prefix: String, of name: String) -> String {
        var hasher = FNV1a()
        for byte in name.utf8 { hasher.combine(byte) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var value = hasher.value
        var suffix = ""
        for _ in 0..<17 {
            suffix.append(alphabet[Int(value & 31)])
            value = (value >> 5) | (value << 59)
        }
        return prefix + suffix
    }

    static func roleID(of role: Role) -> String { uniqueID(prefix: "AROA", of: "role/\(role.name)") }

    // MARK: - Grants (the access workflow's view of a reader role's trust policy)

    /// Lets `principal` assume `roleName` until `expiration` (or indefinitely): the role's trust policy is rebuilt
    /// from its grants, one statement per principal with a `DateLessThan` on `aws:CurrentTime` when it expires.
    public func grantAssumeRole(_ roleName: String, to principal: String, until expiration: Date?) async throws {
        try await changes.withLock {
            guard var role = snapshot.roles[roleName] else { throw Self.noSuchRole(roleName) }
            var grants = TrustGrants(parsing: role.trustPolicy)
            grants.entries[principal] = expiration
            role.trustPolicy = grants.document
            try await commit([.putRole(role)])
        }
    }

    /// The grant `roleName`'s trust policy gives `principal`: `nil` when none, `.some(nil)` for one that does not expire,
    /// `.some(date)` for one that ends at `date`.
    public nonisolated func assumeRoleGrant(_ roleName: String, for principal: String) throws -> Date?? {
        guard let role = snapshot.roles[roleName] else { throw Self.noSuchRole(roleName) }
        return TrustGrants(parsing: role.trustPolicy).entries[principal]
    }

    /// Removes `principal` from `roleName`'s trust policy. New `AssumeRole` calls fail at once; sessions already
    /// issued stay valid until they expire (at most the role's maximum session duration), as on AWS.
    public func revokeAssumeRole(_ roleName: String, from principal: String) async throws {
        try await changes.withLock {
            guard var role = snapshot.roles[roleName] else { throw Self.noSuchRole(roleName) }
            var grants = TrustGrants(parsing: role.trustPolicy)
            guard grants.entries.removeValue(forKey: principal) != nil else { return }
            role.trustPolicy = grants.document
            try await commit([.putRole(role)])
        }
    }

    // MARK: - Expired sessions

    /// How long the keys of an expired session stay stored: requests signed with them meanwhile are refused as
    /// expired (`ExpiredTokenException`, which SDKs answer by refreshing) rather than as unknown keys.
    public static let expiredSessionRetention: TimeInterval = 3600

    /// Deletes the keys of role sessions that expired more than ``expiredSessionRetention`` ago; returns how many.
    /// The expiry service calls it on every sweep.
    @discardableResult
    public nonisolated func purgeExpiredSessions() async throws -> Int {
        try await credentials.deleteSessions(expiredBefore: now().addingTimeInterval(-Self.expiredSessionRetention))
    }
}

/// The trust policy of a reader role as a set of grants: principal → optional expiry.
struct TrustGrants {
    var entries: [String: Date?] = [:]

    init() {}

    /// Reads the grants back from a document this type wrote; anything else yields no grants.
    init(parsing text: String) {
        guard let data = text.data(using: .utf8),
            let document = try? JSONDecoder().decode(Document.self, from: data)
        else { return }
        for statement in document.Statement {
            let expiry = statement.Condition?.DateLessThan["aws:CurrentTime"].flatMap(Self.date(from:))
            entries[statement.Principal.AWS] = expiry
        }
    }

    /// When the grants naming any of `principals` end: the latest of their expiries; `nil` when none names them or
    /// one of them does not expire.
    func end(of principals: [String]) -> Date? {
        let matching = principals.compactMap { entries[$0] }
        guard !matching.isEmpty, !matching.contains(where: { $0 == nil }) else { return nil }
        return matching.compactMap { $0 }.max()
    }

    /// The trust policy: one statement per principal, in principal order.
    var document: String {
        let statements = entries.keys.sorted().map { principal in
            Statement(
                Effect: "Allow",
                Principal: .init(AWS: principal),
                Action: "sts:AssumeRole",
                Condition: entries[principal].flatMap { $0 }.map {
                    .init(DateLessThan: ["aws:CurrentTime": Self.text(from: $0)])
                }
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Document(Version: "2012-10-17", Statement: statements))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func text(from date: Date) -> String { ISO8601.format(date) }

    static func date(from text: String) -> Date? { ISO8601.parse(text) }

    // swiftlint:disable identifier_name
    struct Document: Codable {
        var Version: String
        var Statement: [Statement]
    }

    struct Statement: Codable {
        struct Principal: Codable { var AWS: String }
        struct Condition: Codable { var DateLessThan: [String: String] }
        var Effect: String
        var Principal: Principal
        var Action: String
        var Condition: Condition?
    }
}

/// 64-bit FNV-1a, for ids derived from names (not a security boundary).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ byte: UInt8) {
        value ^= UInt64(byte)
        value &*= 0x0000_0100_0000_01b3
    }
}
