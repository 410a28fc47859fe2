public import Crypto
import Foundation
import GRDB
public import Subjects

/// The subject service's registry in SQLite: the domains' pseudonym secrets sealed under the root key, the subjects'
/// branch keys and the erasure fences as JSON documents keyed by pseudonym.
///
/// A secret is sealed with AES-256-GCM under HKDF-SHA256(root key, info `sealed-events/subject-secrets/v1`), bound to
/// its domain's name: the database never holds one in plaintext, and one moved to another domain's row does not open.
public struct SQLiteSubjectStore: SubjectStore, CustomStringConvertible {
    public let database: SQLiteDatabase
    private let sealer: SecretSealer

    public init(database: SQLiteDatabase, rootKey: SymmetricKey) {
        self.database = database
        self.sealer = SecretSealer(rootKey: rootKey, purpose: "sealed-events/subject-secrets/v1")
    }

    public var description: String { "SQLiteSubjectStore(\(database.url.path))" }

    public func domainSecret(_ domain: String) async throws -> SymmetricKey? {
        let sealed = try await database.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT sealed FROM subject_secret WHERE domain = ?", arguments: [domain])
        }
        return try sealed.map { try open($0, domain: domain) }
    }

    public func insertDomainSecret(_ secret: SymmetricKey, for domain: String) async throws -> SymmetricKey {
        let sealed = try secret.withUnsafeBytes { try sealer.seal(Data($0), aad: Data(domain.utf8)) }
        let stored = try await database.pool.write { db in
            try db.execute(
                sql: "INSERT INTO subject_secret (domain, sealed) VALUES (?, ?) ON CONFLICT (domain) DO NOTHING",
                arguments: [domain, sealed]
            )
            return try Data.fetchOne(db, sql: "SELECT sealed FROM subject_secret WHERE domain = ?", arguments: [domain])
        }
        guard let stored else { throw StorageError(.unsealFailed, "The secret of the domain \(domain) was not kept.") }
        return try open(stored, domain: domain)
    }

    private func open(_ sealed: Data, domain: String) throws -> SymmetricKey {
        SymmetricKey(data: try sealer.open(sealed, aad: Data(domain.utf8), what: "The secret of the domain \(domain)"))
    }

    public func keys(domain: String, pseudonym: String) async throws -> [SubjectKey] {
        try await database.pool.read { db in
            try Data.fetchAll(
                db,
                sql: "SELECT document FROM subject_key WHERE domain = ? AND pseudonym = ? ORDER BY branch_key_id",
                arguments: [domain, pseudonym]
            ).map { try JSONDecoder().decode(SubjectKey.self, from: $0) }
        }
    }

    public func putKey(_ key: SubjectKey) async throws {
        let document = try Documents.encode(key)
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO subject_key (branch_key_id, domain, pseudonym, document) VALUES (?, ?, ?, ?)
                    ON CONFLICT (branch_key_id) DO UPDATE SET document = excluded.document
                    """,
                arguments: [key.branchKeyID, key.domain, key.pseudonym, document]
            )
        }
    }

    public func deleteKey(branchKeyID: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM subject_key WHERE branch_key_id = ?", arguments: [branchKeyID])
        }
    }

    public func fence(domain: String, pseudonym: String) async throws -> SubjectFence? {
        try await database.pool.read { db in
            try Data.fetchOne(
                db,
                sql: "SELECT document FROM subject_fence WHERE domain = ? AND pseudonym = ?",
                arguments: [domain, pseudonym]
            ).map { try JSONDecoder().decode(SubjectFence.self, from: $0) }
        }
    }

    public func putFence(_ fence: SubjectFence) async throws {
        let document = try Documents.encode(fence)
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO subject_fence (domain, pseudonym, document) VALUES (?, ?, ?)
                    ON CONFLICT (domain, pseudonym) DO UPDATE SET document = excluded.document
                    """,
                arguments: [fence.domain, fence.pseudonym, document]
            )
        }
    }
}
