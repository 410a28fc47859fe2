public import AccessControl
public import Crypto
public import Foundation
package import PostgresNIO
import Storage

/// A ``AccessControl/CredentialStore`` in PostgreSQL, with secrets sealed under the root key.
///
/// Secrets and session tokens are sealed exactly as the SQLite store seals them (AES-256-GCM under a key derived
/// from the root key, bound to the access key id), so the database never holds one in plaintext and a sealed secret
/// moved to another row does not open.
///
/// **Cache.** Without a ``PostgresCacheEpoch`` every ``accessKey(id:)`` reads its row (one primary-key lookup). With
/// one it answers from memory while the epoch has not moved, which a deactivation or deletion moves in its own
/// transaction: either way, a key deactivated or deleted through any replica is refused by all of them for every
/// request that arrives after the change committed. Cached keys hold their secret unsealed, as the SQLite store's
/// cache does. Every write is one statement, so no transaction is needed.
public struct PostgresCredentialStore: CredentialStore, CustomStringConvertible {
    public let database: PostgresDatabase
    private let sealer: SecretSealer
    private let cache: EpochCache<AccessKey>?

    /// A store over `database`, sealing with `rootKey` (256 bits); with `cacheEpoch`, up to `cacheCapacity` access
    /// keys cached (every role session is a new key).
    public init(
        database: PostgresDatabase,
        rootKey: SymmetricKey,
        cacheEpoch: PostgresCacheEpoch? = nil,
        cacheCapacity: Int = 10_000
    ) {
        self.database = database
        self.sealer = SecretSealer(rootKey: rootKey)
        self.cache = cacheEpoch.map { EpochCache(epoch: $0, capacity: cacheCapacity) }
    }

    public var description: String { "PostgresCredentialStore(\(database.url))" }

    public func accessKey(id: String) async throws -> AccessKey? {
        guard let cache else { return try await read(id: id) }
        return try await cache.value(for: id, read: read(id:))
    }

    private func read(id: String) async throws -> AccessKey? {
        let rows = try await database.query(AccessKeyByID(id: id))
        guard let row = rows.first?.makeRandomAccess() else { return nil }
        return AccessKey(
            id: id,
            secretAccessKey: try sealer.openSecret(try row.value("sealed_secret"), accessKeyID: id),
            principalARN: try row.value("principal_arn"),
            status: AccessKey.Status(rawValue: try row.value("status")),
            sessionToken: try row.value("sealed_session_token", as: Data?.self).map {
                try sealer.openSessionToken($0, accessKeyID: id)
            },
            expiration: try row.optionalDate("expiration"),
            creationDate: try row.date("creation_date")
        )
    }

    /// The read of one access key that a signed request makes when the key is not cached.
    private struct AccessKeyByID: PreparedQuery {
        static let name = "sealed_access_key_by_id"
        static let sql = """
            SELECT principal_arn, status, sealed_secret, sealed_session_token, expiration, creation_date
            FROM access_key WHERE id = $1
            """
        var id: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(id)
            return bindings
        }
    }

    public func create(_ accessKey: AccessKey) async throws {
        try await database.withConnection { connection in try await insert(accessKey, on: connection) }
    }

    /// Inserts `accessKey` on `connection` (inside the caller's transaction, if any).
    ///
    /// - Throws: ``AccessControl/AccessControlError`` `accessKeyExists` when its id is taken.
    package func insert(_ accessKey: AccessKey, on connection: PostgresConnection) async throws {
        let sealedSecret = try sealer.sealSecret(accessKey.secretAccessKey, accessKeyID: accessKey.id)
        let sealedToken = try accessKey.sessionToken.map { try sealer.sealSessionToken($0, accessKeyID: accessKey.id) }
        let inserted = try await connection.run(
            try """
            INSERT INTO access_key (id, principal_arn, status, sealed_secret, sealed_session_token, expiration,
                creation_date)
            VALUES (\(accessKey.id), \(accessKey.principalARN), \(accessKey.status.rawValue), \(sealedSecret),
                \(sealedToken), \(accessKey.expiration?.timeIntervalSinceReferenceDate),
                \(accessKey.creationDate.timeIntervalSinceReferenceDate))
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """
        )
        guard !inserted.isEmpty else {
            throw AccessControlError(.accessKeyExists, "An access key with id \(accessKey.id) already exists.")
        }
    }

    public func accessKeys(of principal: String?) async throws -> [AccessKey.Metadata] {
        let rows = try await database.query(
            """
            SELECT id, principal_arn, status, creation_date, expiration,
                sealed_session_token IS NOT NULL AS has_session_token
            FROM access_key WHERE \(principal)::text IS NULL OR principal_arn = \(principal)
            ORDER BY id
            """
        )
        return try rows.map { row in
            let row = row.makeRandomAccess()
            return AccessKey.Metadata(
                id: try row.value("id"),
                principalARN: try row.value("principal_arn"),
                status: AccessKey.Status(rawValue: try row.value("status")),
                creationDate: try row.date("creation_date"),
                expiration: try row.optionalDate("expiration"),
                hasSessionToken: try row.value("has_session_token")
            )
        }
    }

    public func deactivate(id: String) async throws {
        cache?.forget([id])
        defer { cache?.forget([id]) }
        let changed = try await database.query(
            "UPDATE access_key SET status = \(AccessKey.Status.inactive.rawValue) WHERE id = \(id) RETURNING id"
        )
        guard !changed.isEmpty else { throw Self.notFound(id) }
    }

    public func delete(id: String) async throws {
        cache?.forget([id])
        defer { cache?.forget([id]) }
        let deleted = try await database.query("DELETE FROM access_key WHERE id = \(id) RETURNING id")
        guard !deleted.isEmpty else { throw Self.notFound(id) }
    }

    public func deleteSessions(expiredBefore date: Date) async throws -> Int {
        cache?.forgetAll()
        defer { cache?.forgetAll() }
        let rows = try await database.query(
            """
            WITH deleted AS (
                DELETE FROM access_key
                WHERE sealed_session_token IS NOT NULL AND expiration < \(date.timeIntervalSinceReferenceDate)
                RETURNING 1
            )
            SELECT count(*) FROM deleted
            """
        )
        return try rows.first?.decode(Int.self) ?? 0
    }

    private static func notFound(_ id: String) -> AccessControlError {
        AccessControlError(.accessKeyNotFound, "No access key has the id \(id).")
    }
}
