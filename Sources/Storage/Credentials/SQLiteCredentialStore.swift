public import AccessControl
public import Crypto
public import Foundation
import GRDB
import Synchronization

/// A ``CredentialStore`` in SQLite, with secrets sealed under the root key and an in-memory cache for lookups.
///
/// Each secret access key (and session token) is sealed with AES-256-GCM, bound to its access key id (see the
/// module documentation); the database never holds one in plaintext. ``accessKey(id:)`` answers from a cache of
/// unsealed keys after the first lookup; every change made through this store drops the entry it touches, and a
/// lookup that raced with a change does not fill the cache with what it read. The cache holds at most
/// ``cacheCapacity`` keys (every role session is a new key): when full, an arbitrary entry makes room, and deleting
/// expired sessions drops theirs. Changes made by another process to the
/// same database are not seen by the cache: the server owns its data directory.
public final class SQLiteCredentialStore: CredentialStore, CustomStringConvertible {
    public let database: SQLiteDatabase
    private let sealer: SecretSealer
    private let cache = Mutex(Cache())
    /// The most keys the lookup cache holds.
    public let cacheCapacity: Int

    private struct Cache {
        var keys: [String: AccessKey] = [:]
        /// Bumped after every change, so a lookup that read before a change does not cache its stale result.
        var generation = 0
    }

    /// A store over `database`, sealing with `rootKey` (256 bits), caching up to `cacheCapacity` keys.
    public init(database: SQLiteDatabase, rootKey: SymmetricKey, cacheCapacity: Int = 10_000) {
        self.database = database
        self.sealer = SecretSealer(rootKey: rootKey)
        self.cacheCapacity = max(1, cacheCapacity)
    }

    /// The number of keys in the lookup cache.
    var cachedKeyCount: Int { cache.withLock { $0.keys.count } }

    public var description: String { "SQLiteCredentialStore(\(database.url.path))" }

    public func accessKey(id: String) async throws -> AccessKey? {
        let (cached, generation) = cache.withLock { ($0.keys[id], $0.generation) }
        if let cached { return cached }
        let found = try await database.pool.read { [sealer] db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM access_key WHERE id = ?"), arguments: [id])
                .map { try Self.unsealed($0, with: sealer) }
        }
        guard let key = found else { return nil }
        cache.withLock { [cacheCapacity] cache in
            guard cache.generation == generation else { return }
            if cache.keys.count >= cacheCapacity, let index = cache.keys.indices.first {
                cache.keys.remove(at: index)
            }
            cache.keys[id] = key
        }
        return key
    }

    public func create(_ accessKey: AccessKey) async throws {
        let sealedSecret = try sealer.sealSecret(accessKey.secretAccessKey, accessKeyID: accessKey.id)
        let sealedToken = try accessKey.sessionToken.map { try sealer.sealSessionToken($0, accessKeyID: accessKey.id) }
        try await changing(accessKey.id) {
            try await database.pool.write { db in
                try Self.insert(accessKey, sealedSecret: sealedSecret, sealedToken: sealedToken, in: db)
            }
        }
    }

    public func accessKeys(of principal: String?) async throws -> [AccessKey.Metadata] {
        try await database.pool.read { db in
            let rows =
                if let principal {
                    try Row.fetchAll(
                        db,
                        sql: "SELECT * FROM access_key WHERE principal_arn = ? ORDER BY id",
                        arguments: [principal]
                    )
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM access_key ORDER BY id")
                }
            return rows.map { row in
                AccessKey.Metadata(
                    id: row["id"],
                    principalARN: row["principal_arn"],
                    status: AccessKey.Status(rawValue: row["status"]),
                    creationDate: Date(timeIntervalSinceReferenceDate: row["creation_date"]),
                    expiration: (row["expiration"] as Double?).map(Date.init(timeIntervalSinceReferenceDate:)),
                    hasSessionToken: (row["sealed_session_token"] as Data?) != nil
                )
            }
        }
    }

    public func deactivate(id: String) async throws {
        try await changing(id) {
            try await database.pool.write { db in
                try db.execute(
                    sql: "UPDATE access_key SET status = ? WHERE id = ?",
                    arguments: [AccessKey.Status.inactive.rawValue, id]
                )
                guard db.changesCount == 1 else { throw Self.notFound(id) }
            }
        }
    }

    public func delete(id: String) async throws {
        try await changing(id) {
            try await database.pool.write { db in
                try db.execute(sql: "DELETE FROM access_key WHERE id = ?", arguments: [id])
                guard db.changesCount == 1 else { throw Self.notFound(id) }
            }
        }
    }

    public func deleteSessions(expiredBefore date: Date) async throws -> Int {
        // Drops what the deletion may touch (also when it failed half way), and makes a lookup that read before it
        // not cache what it read.
        defer {
            cache.withLock { cache in
                cache.keys = cache.keys.filter { _, key in
                    key.sessionToken == nil || key.expiration.map { $0 >= date } ?? true
                }
                cache.generation &+= 1
            }
        }
        return try await database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM access_key WHERE sealed_session_token IS NOT NULL AND expiration < ?",
                arguments: [date.timeIntervalSinceReferenceDate]
            )
            return db.changesCount
        }
    }

    /// Stores `accessKey` inside a write transaction that is already open (used by the data directory to create
    /// its administrator in the same transaction as the rest of its initial state).
    func insert(_ accessKey: AccessKey, in db: Database) throws {
        let sealedSecret = try sealer.sealSecret(accessKey.secretAccessKey, accessKeyID: accessKey.id)
        let sealedToken = try accessKey.sessionToken.map { try sealer.sealSessionToken($0, accessKeyID: accessKey.id) }
        try Self.insert(accessKey, sealedSecret: sealedSecret, sealedToken: sealedToken, in: db)
    }

    // MARK: - Helpers

    /// Runs a change, then drops the cache entry and bumps the generation, also when the change failed.
    private func changing(_ id: String, _ body: () async throws -> Void) async throws {
        defer {
            cache.withLock { cache in
                cache.keys[id] = nil
                cache.generation &+= 1
            }
        }
        try await body()
    }

    private static func insert(_ key: AccessKey, sealedSecret: Data, sealedToken: Data?, in db: Database) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM access_key WHERE id = ?", arguments: [key.id]) != nil {
            throw AccessControlError(.accessKeyExists, "An access key with id \(key.id) already exists.")
        }
        try db.execute(
            sql: """
                INSERT INTO access_key (id, principal_arn, status, sealed_secret, sealed_session_token, expiration,
                    creation_date)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, key.principalARN, key.status.rawValue, sealedSecret, sealedToken,
                key.expiration?.timeIntervalSinceReferenceDate, key.creationDate.timeIntervalSinceReferenceDate,
            ]
        )
    }

    private static func unsealed(_ row: Row, with sealer: SecretSealer) throws -> AccessKey {
        let id: String = row["id"]
        return AccessKey(
            id: id,
            secretAccessKey: try sealer.openSecret(row["sealed_secret"], accessKeyID: id),
            principalARN: row["principal_arn"],
            status: AccessKey.Status(rawValue: row["status"]),
            sessionToken: try (row["sealed_session_token"] as Data?).map {
                try sealer.openSessionToken($0, accessKeyID: id)
            },
            expiration: (row["expiration"] as Double?).map(Date.init(timeIntervalSinceReferenceDate:)),
            creationDate: Date(timeIntervalSinceReferenceDate: row["creation_date"])
        )
    }

    private static func notFound(_ id: String) -> AccessControlError {
        AccessControlError(.accessKeyNotFound, "No access key has the id \(id).")
    }
}
