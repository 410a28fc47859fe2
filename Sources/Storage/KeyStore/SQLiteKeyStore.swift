public import Foundation
import GRDB
import WireShapes
public import KeyService

/// A `KeyStore` in SQLite: the key service's keys, their sealed key-material versions, and aliases.
///
/// It has the semantics of `InMemoryKeyStore`, which the contract tests of `StorageTests` run against both:
///
/// - ``commit(_:)`` checks every change's expected revision against the stored records first and then applies the
///   changes in order, all in one write transaction; a mismatch throws `KeyStoreConflict` and changes nothing.
/// - Deleting a key deletes its key-material versions and every alias that targets it.
/// - ``keys(after:limit:)`` and ``aliases(targeting:after:limit:)`` page in identifier order;
///   ``keysNeedingMaintenance(at:)`` answers from an index on the next maintenance date.
///
/// Key material arrives sealed under the root key and is stored as those bytes; this store never unseals anything.
/// Reads run on a snapshot, so a page or a record never mixes two commits.
public struct SQLiteKeyStore: KeyStore, CustomStringConvertible {
    public let database: SQLiteDatabase

    /// A store over `database`, which ``SQLiteDatabase/open(at:)`` has migrated.
    public init(database: SQLiteDatabase) { self.database = database }

    public var description: String { "SQLiteKeyStore(\(database.url.path))" }

    public func key(id: String) async throws -> KeyRecord? {
        try await database.pool.read { db in try Self.fetchKeys(db, "WHERE id = ?", [id]).first }
    }

    public func alias(named name: String) async throws -> AliasRecord? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM kms_alias WHERE name = ?", arguments: [name]).map(
                Self.alias(from:)
            )
        }
    }

    public func keys(after marker: String?, limit: Int) async throws -> [KeyRecord] {
        guard limit > 0 else { return [] }
        return try await database.pool.read { db in
            if let marker {
                try Self.fetchKeys(db, "WHERE id > ? ORDER BY id LIMIT ?", [marker, limit])
            } else {
                try Self.fetchKeys(db, "ORDER BY id LIMIT ?", [limit])
            }
        }
    }

    public func aliases(targeting targetKeyID: String?, after marker: String?, limit: Int) async throws -> [AliasRecord]
    {
        guard limit > 0 else { return [] }
        return try await database.pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let targetKeyID {
                conditions.append("target_key_id = ?")
                arguments += [targetKeyID]
            }
            if let marker {
                conditions.append("name > ?")
                arguments += [marker]
            }
            arguments += [limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM kms_alias \(filter) ORDER BY name LIMIT ?",
                arguments: arguments
            ).map(Self.alias(from:))
        }
    }

    public func keysNeedingMaintenance(at now: Date) async throws -> [KeyRecord] {
        try await database.pool.read { db in
            if now >= .distantFuture {
                // `InMemoryKeyStore` reads an absent date as `.distantFuture`, which is "due" at that instant.
                return try Self.fetchKeys(
                    db,
                    "WHERE next_maintenance_date IS NULL OR next_maintenance_date <= ? ORDER BY id",
                    [now.timeIntervalSinceReferenceDate]
                )
            }
            return try Self.fetchKeys(db, Self.dueSelection, [now.timeIntervalSinceReferenceDate])
        }
    }

    public func commit(_ batch: KeyStoreBatch) async throws {
        guard !batch.changes.isEmpty else { return }
        try await database.pool.write { db in try Self.apply(batch, in: db) }
    }

    /// The keys due for maintenance, from the partial index on the next maintenance date (named, so that the query
    /// planner does not prefer scanning the primary key for the `ORDER BY`).
    static let dueSelection = """
        INDEXED BY kms_key_on_next_maintenance_date WHERE next_maintenance_date <= ? ORDER BY id
        """

    // MARK: - Writing

    /// Checks every expected revision against the stored state, then applies the changes in order, as
    /// `InMemoryKeyStore` does. Runs inside the write transaction: a throw rolls everything back.
    static func apply(_ batch: KeyStoreBatch, in db: Database) throws {
        for change in batch.changes {
            let stored: Int?
            let expected: Int?
            switch change {
            case .putKey(let record, let expectedRevision):
                stored = try revision(db, table: "kms_key", column: "id", record.id)
                expected = expectedRevision
            case .deleteKey(let id, let expectedRevision):
                stored = try revision(db, table: "kms_key", column: "id", id)
                expected = expectedRevision
            case .putAlias(let record, let expectedRevision):
                stored = try revision(db, table: "kms_alias", column: "name", record.name)
                expected = expectedRevision
            case .deleteAlias(let name, let expectedRevision):
                stored = try revision(db, table: "kms_alias", column: "name", name)
                expected = expectedRevision
            }
            guard stored == expected else { throw KeyStoreConflict() }
        }
        for change in batch.changes {
            switch change {
            case .putKey(let record, _):
                try put(record, in: db)
            case .deleteKey(let id, _):
                try db.execute(sql: "DELETE FROM kms_key_material WHERE key_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM kms_alias WHERE target_key_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM kms_key WHERE id = ?", arguments: [id])
            case .putAlias(let record, _):
                try db.cachedStatement(
                    sql: """
                        INSERT INTO kms_alias (name, target_key_id, creation_date, last_updated_date, revision)
                        VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET target_key_id = excluded.target_key_id,
                            creation_date = excluded.creation_date, last_updated_date = excluded.last_updated_date,
                            revision = excluded.revision
                        """
                ).execute(arguments: [
                    record.name, record.targetKeyID, record.creationDate.timeIntervalSinceReferenceDate,
                    record.lastUpdatedDate.timeIntervalSinceReferenceDate, record.revision,
                ])
            case .deleteAlias(let name, _):
                try db.execute(sql: "DELETE FROM kms_alias WHERE name = ?", arguments: [name])
            }
        }
    }

    private static func revision(_ db: Database, table: String, column: String, _ value: String) throws -> Int? {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT revision FROM \(table) WHERE \(column) = ?"),
            arguments: [value]
        )
    }

    private static func put(_ record: KeyRecord, in db: Database) throws {
        let tags = String(decoding: try JSONEncoder().encode(record.tags), as: UTF8.self)
        var arguments: StatementArguments = [
            record.id, record.arn, record.keyDescription, record.creationDate.timeIntervalSinceReferenceDate,
            record.state.rawValue, record.deletionDate?.timeIntervalSinceReferenceDate, record.pendingWindowInDays,
            record.keyUsage.rawValue, record.keySpec.rawValue, record.origin.rawValue, tags, record.policy,
        ]
        arguments += [
            record.rotation.isEnabled, record.rotation.periodInDays,
            record.rotation.nextRotationDate?.timeIntervalSinceReferenceDate,
            record.nextMaintenanceDate?.timeIntervalSinceReferenceDate, record.revision,
        ]
        try db.cachedStatement(
            sql: """
                INSERT INTO kms_key (id, arn, description, creation_date, state, deletion_date, pending_window_in_days,
                    key_usage, key_spec, origin, tags, policy, rotation_enabled, rotation_period_in_days,
                    next_rotation_date, next_maintenance_date, revision)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET arn = excluded.arn, description = excluded.description,
                    creation_date = excluded.creation_date, state = excluded.state,
                    deletion_date = excluded.deletion_date, pending_window_in_days = excluded.pending_window_in_days,
                    key_usage = excluded.key_usage, key_spec = excluded.key_spec, origin = excluded.origin,
                    tags = excluded.tags, policy = excluded.policy, rotation_enabled = excluded.rotation_enabled,
                    rotation_period_in_days = excluded.rotation_period_in_days,
                    next_rotation_date = excluded.next_rotation_date,
                    next_maintenance_date = excluded.next_maintenance_date, revision = excluded.revision
                """
        ).execute(arguments: arguments)
        try db.execute(
            sql: "DELETE FROM kms_key_material WHERE key_id = ? AND position >= ?",
            arguments: [record.id, record.materials.count]
        )
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO kms_key_material (key_id, position, version, material_id, creation_date, origin, sealed)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key_id, position) DO UPDATE SET version = excluded.version,
                    material_id = excluded.material_id, creation_date = excluded.creation_date,
                    origin = excluded.origin, sealed = excluded.sealed
                WHERE version IS NOT excluded.version OR material_id IS NOT excluded.material_id
                    OR creation_date IS NOT excluded.creation_date OR origin IS NOT excluded.origin
                    OR sealed IS NOT excluded.sealed
                """
        )
        for (position, material) in record.materials.enumerated() {
            try upsert.execute(arguments: [
                record.id, position, Int64(material.version), material.materialID,
                material.creationDate.timeIntervalSinceReferenceDate, material.origin.rawValue, material.sealed,
            ])
        }
    }

    // MARK: - Reading

    /// The keys `selection` selects (what follows `SELECT * FROM kms_key`), each with its key-material versions.
    private static func fetchKeys(
        _ db: Database,
        _ selection: String,
        _ arguments: StatementArguments
    ) throws
        -> [KeyRecord]
    {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM kms_key \(selection)", arguments: arguments)
        guard !rows.isEmpty else { return [] }
        let ids: [String] = rows.map { $0["id"] }
        var materials: [String: [SealedMaterial]] = [:]
        let materialRows = try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM kms_key_material WHERE key_id IN (\(databaseQuestionMarks(count: ids.count)))
                ORDER BY key_id, position
                """,
            arguments: StatementArguments(ids)
        )
        for row in materialRows {
            let keyID: String = row["key_id"]
            let version: Int64 = row["version"]
            materials[keyID, default: []].append(
                SealedMaterial(
                    version: UInt32(truncatingIfNeeded: version),
                    materialID: row["material_id"],
                    creationDate: Date(timeIntervalSinceReferenceDate: row["creation_date"]),
                    origin: SealedMaterial.Origin(rawValue: row["origin"]),
                    sealed: row["sealed"]
                )
            )
        }
        return try rows.map { row in
            let id: String = row["id"]
            let tagsText: String = row["tags"]
            return KeyRecord(
                id: id,
                arn: row["arn"],
                keyDescription: row["description"],
                creationDate: Date(timeIntervalSinceReferenceDate: row["creation_date"]),
                state: KeyState(rawValue: row["state"]),
                deletionDate: (row["deletion_date"] as Double?).map(Date.init(timeIntervalSinceReferenceDate:)),
                pendingWindowInDays: row["pending_window_in_days"],
                keyUsage: KeyUsage(rawValue: row["key_usage"]),
                keySpec: KeySpec(rawValue: row["key_spec"]),
                origin: Origin(rawValue: row["origin"]),
                tags: try JSONDecoder().decode([Tag].self, from: Data(tagsText.utf8)),
                policy: row["policy"],
                rotation: RotationSettings(
                    isEnabled: row["rotation_enabled"],
                    periodInDays: row["rotation_period_in_days"],
                    nextRotationDate: (row["next_rotation_date"] as Double?)
                        .map(Date.init(timeIntervalSinceReferenceDate:))
                ),
                materials: materials[id] ?? [],
                revision: row["revision"]
            )
        }
    }

    private static func alias(from row: Row) -> AliasRecord {
        AliasRecord(
            name: row["name"],
            targetKeyID: row["target_key_id"],
            creationDate: Date(timeIntervalSinceReferenceDate: row["creation_date"]),
            lastUpdatedDate: Date(timeIntervalSinceReferenceDate: row["last_updated_date"]),
            revision: row["revision"]
        )
    }
}
