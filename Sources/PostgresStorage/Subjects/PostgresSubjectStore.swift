public import Crypto
import Foundation
import PostgresNIO
import Storage
public import Subjects

/// The subject service's registry in PostgreSQL: the domains' pseudonym secrets sealed under the root key, the
/// subjects' branch keys and the erasure fences as JSON documents keyed by pseudonym.
///
/// A secret is sealed as the SQLite store seals it (AES-256-GCM under HKDF-SHA256(root key, info
/// `sealed-events/subject-secrets/v1`), bound to its domain's name). ``insertDomainSecret(_:for:)`` keeps the first
/// secret: two replicas creating a domain's secret at once end with the same one.
public struct PostgresSubjectStore: SubjectStore, CustomStringConvertible {
    public let database: PostgresDatabase
    private let sealer: SecretSealer

    public init(database: PostgresDatabase, rootKey: SymmetricKey) {
        self.database = database
        self.sealer = SecretSealer(rootKey: rootKey, purpose: "sealed-events/subject-secrets/v1")
    }

    public var description: String { "PostgresSubjectStore(\(database.url))" }

    public func domainSecret(_ domain: String) async throws -> SymmetricKey? {
        let rows = try await database.query("SELECT sealed FROM subject_secret WHERE domain = \(domain)")
        return try rows.first.map { try open(try $0.decode(Data.self), domain: domain) }
    }

    public func insertDomainSecret(_ secret: SymmetricKey, for domain: String) async throws -> SymmetricKey {
        let sealed = try secret.withUnsafeBytes { try sealer.seal(Data($0), aad: Data(domain.utf8)) }
        // Serializable: when another replica's insert of the same domain is in flight, this one fails, is run again,
        // and reads the secret that won (a single statement would read a snapshot from before that insert).
        let stored = try await database.transaction { connection in
            try await connection.run(
                try "INSERT INTO subject_secret (domain, sealed) VALUES (\(domain), \(sealed)) ON CONFLICT DO NOTHING"
            )
            return try await connection.run("SELECT sealed FROM subject_secret WHERE domain = \(domain)").first?
                .decode(Data.self)
        }
        guard let stored else {
            throw StorageError(.unsealFailed, "The secret of the domain \(domain) was not kept.")
        }
        return try open(stored, domain: domain)
    }

    private func open(_ sealed: Data, domain: String) throws -> SymmetricKey {
        SymmetricKey(data: try sealer.open(sealed, aad: Data(domain.utf8), what: "The secret of the domain \(domain)"))
    }

    public func keys(domain: String, pseudonym: String) async throws -> [SubjectKey] {
        try await database.query(
            """
            SELECT document FROM subject_key WHERE domain = \(domain) AND pseudonym = \(pseudonym)
            ORDER BY branch_key_id
            """
        ).map { try Documents.decode(SubjectKey.self, try $0.decode(Data.self)) }
    }

    public func putKey(_ key: SubjectKey) async throws {
        let document = try Documents.encode(key)
        try await database.query(
            try """
            INSERT INTO subject_key (branch_key_id, domain, pseudonym, document)
            VALUES (\(key.branchKeyID), \(key.domain), \(key.pseudonym), \(document))
            ON CONFLICT (branch_key_id) DO UPDATE SET document = excluded.document
            """
        )
    }

    public func deleteKey(branchKeyID: String) async throws {
        try await database.query("DELETE FROM subject_key WHERE branch_key_id = \(branchKeyID)")
    }

    public func fence(domain: String, pseudonym: String) async throws -> SubjectFence? {
        try await database.query(
            "SELECT document FROM subject_fence WHERE domain = \(domain) AND pseudonym = \(pseudonym)"
        ).first.map { try Documents.decode(SubjectFence.self, try $0.decode(Data.self)) }
    }

    public func putFence(_ fence: SubjectFence) async throws {
        let document = try Documents.encode(fence)
        try await database.query(
            try """
            INSERT INTO subject_fence (domain, pseudonym, document) VALUES (\(fence.domain), \(fence.pseudonym),
                \(document))
            ON CONFLICT (domain, pseudonym) DO UPDATE SET document = excluded.document
            """
        )
    }
}
