public import Foundation

/// Where the server finds the access keys it verifies SigV4 signatures with.
///
/// An access key maps an access key id to its secret, the principal it authenticates, its status, and — for role
/// sessions — a session token and an expiration. Implementations keep secrets sealed at rest and make
/// ``accessKey(id:)`` cheap, since every request calls it. The identities-and-access issue will extend or move this
/// protocol; it is kept to what SigV4 verification and the administrator need.
public protocol CredentialStore: Sendable {
    /// The access key with this id, its secret unsealed, whatever its status or expiration; `nil` when unknown.
    func accessKey(id: String) async throws -> AccessKey?
    /// Stores a new access key.
    ///
    /// - Throws: ``AccessControlError`` `accessKeyExists` when the id is taken.
    func create(_ accessKey: AccessKey) async throws
    /// The access keys (without secrets) of `principal`, or of every principal when `nil`, ordered by id.
    func accessKeys(of principal: String?) async throws -> [AccessKey.Metadata]
    /// Marks an access key ``AccessKey/Status/inactive``: lookups still find it, verification must refuse it.
    ///
    /// - Throws: ``AccessControlError`` `accessKeyNotFound`.
    func deactivate(id: String) async throws
    /// Deletes an access key.
    ///
    /// - Throws: ``AccessControlError`` `accessKeyNotFound`.
    func delete(id: String) async throws
    /// Deletes the keys of role sessions whose expiration is before `date`; returns how many. Long-term keys are
    /// never deleted by it.
    func deleteSessions(expiredBefore date: Date) async throws -> Int
}

/// An access key: the credentials a client signs with, and whom they authenticate.
///
/// Its description, debug description and mirror never show the secret access key or the session token.
public struct AccessKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Whether an access key may be used (IAM's `Active`/`Inactive`).
    public struct Status: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let active = Status(rawValue: "Active")
        public static let inactive = Status(rawValue: "Inactive")
    }

    /// What can be shown of an access key: everything but its secrets.
    public struct Metadata: Sendable, Hashable {
        public var id: String
        public var principalARN: String
        public var status: Status
        public var creationDate: Date
        public var expiration: Date?
        /// Whether requests must carry a session token (role sessions).
        public var hasSessionToken: Bool

        public init(
            id: String,
            principalARN: String,
            status: Status,
            creationDate: Date,
            expiration: Date?,
            hasSessionToken: Bool
        ) {
            self.id = id
            self.principalARN = principalARN
            self.status = status
            self.creationDate = creationDate
            self.expiration = expiration
            self.hasSessionToken = hasSessionToken
        }
    }

    /// The access key id: `AKIA…` for long-term keys, `ASIA…` for role sessions.
    public var id: String
    public var secretAccessKey: String
    /// The ARN of the user or assumed-role session the key authenticates.
    public var principalARN: String
    public var status: Status
    /// The token requests of a role session must carry; `nil` for long-term keys.
    public var sessionToken: String?
    /// When a role session's credentials stop working.
    public var expiration: Date?
    public var creationDate: Date

    public init(
        id: String,
        secretAccessKey: String,
        principalARN: String,
        status: Status = .active,
        sessionToken: String? = nil,
        expiration: Date? = nil,
        creationDate: Date = Date()
    ) {
        self.id = id
        self.secretAccessKey = secretAccessKey
        self.principalARN = principalARN
        self.status = status
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.creationDate = creationDate
    }

    /// A new long-term access key for `principal`: an `AKIA` id and a random 40-character secret.
    public static func generate(for principal: String, at date: Date = Date()) -> AccessKey {
        AccessKey(
            id: AccessKeyGenerator.accessKeyID(prefix: "AKIA"),
            secretAccessKey: AccessKeyGenerator.secretAccessKey(),
            principalARN: principal,
            creationDate: date
        )
    }

    /// New temporary credentials for a role session: an `ASIA` id, a random secret and a random session token.
    public static func generateSession(for principal: String, expiration: Date, at date: Date = Date()) -> AccessKey {
        AccessKey(
            id: AccessKeyGenerator.accessKeyID(prefix: "ASIA"),
            secretAccessKey: AccessKeyGenerator.secretAccessKey(),
            principalARN: principal,
            sessionToken: AccessKeyGenerator.sessionToken(),
            expiration: expiration,
            creationDate: date
        )
    }

    /// Whether the key may sign requests at `date`: active and, for a session, not expired.
    public func isUsable(at date: Date) -> Bool {
        status == .active && (expiration.map { date < $0 } ?? true)
    }

    public var metadata: Metadata {
        Metadata(
            id: id,
            principalARN: principalARN,
            status: status,
            creationDate: creationDate,
            expiration: expiration,
            hasSessionToken: sessionToken != nil
        )
    }

    public var description: String {
        "AccessKey(\(id), \(principalARN), \(status), secretAccessKey: <redacted>"
            + (sessionToken == nil ? "" : ", sessionToken: <redacted>")
            + (expiration.map { ", expiration: \($0)" } ?? "") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "id": id, "principalARN": principalARN, "status": status, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>", "expiration": expiration as Any,
                "creationDate": creationDate,
            ]
        )
    }
}

/// A ``CredentialStore`` in memory, for tests and ephemeral servers; it holds secrets unsealed.
public actor InMemoryCredentialStore: CredentialStore {
    private var keys: [String: AccessKey] = [:]

    public init(_ accessKeys: [AccessKey] = []) {
        for key in accessKeys { keys[key.id] = key }
    }

    public func accessKey(id: String) -> AccessKey? { keys[id] }

    public func create(_ accessKey: AccessKey) throws {
        guard keys[accessKey.id] == nil else {
            throw AccessControlError(.accessKeyExists, "An access key with id \(accessKey.id) already exists.")
        }
        keys[accessKey.id] = accessKey
    }

    public func accessKeys(of principal: String?) -> [AccessKey.Metadata] {
        keys.values.filter { principal == nil || $0.principalARN == principal }.sorted { $0.id < $1.id }.map(\.metadata)
    }

    public func deactivate(id: String) throws {
        guard keys[id] != nil else { throw AccessControlError(.accessKeyNotFound, "No access key has the id \(id).") }
        keys[id]?.status = .inactive
    }

    public func delete(id: String) throws {
        guard keys.removeValue(forKey: id) != nil else {
            throw AccessControlError(.accessKeyNotFound, "No access key has the id \(id).")
        }
    }

    public func deleteSessions(expiredBefore date: Date) -> Int {
        let expired = keys.values.filter { key in
            key.sessionToken != nil && key.expiration.map { $0 < date } == true
        }
        for key in expired { keys[key.id] = nil }
        return expired.count
    }
}
