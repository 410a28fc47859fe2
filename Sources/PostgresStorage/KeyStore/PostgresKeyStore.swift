public import Foundation
public import KeyService
import PostgresNIO
import WireShapes

/// A `KeyStore` in PostgreSQL: the key service's keys, their sealed key-material versions, and aliases.
///
/// It has the semantics of `InMemoryKeyStore` and `SQLiteKeyStore`, which the contract tests of `StorageTests` hold
/// all of them to:
///
/// - ``commit(_:)`` checks every change's expected revision against the stored records and then applies the changes
///   in order, in one serializable transaction: a mismatch throws `KeyStoreConflict` and changes nothing, and two
///   replicas committing over the same revision cannot both succeed (the loser is retried, then sees the conflict).
/// - Deleting a key deletes its key-material versions and every alias that targets it.
/// - Pages are in identifier order (`COLLATE "C"`: code points, as Swift's `<`).
///
/// Key material arrives sealed under the root key and is stored as those bytes; this store never unseals anything.
/// A read is one statement (the keys joined with their material), so it never mixes two commits.
///
/// Given a ``PostgresCacheEpoch``, ``key(id:)`` and ``alias(named:)`` answer from memory while the epoch has not
/// moved (see there: never a record older than the request); listings and the maintenance query always read the
/// database.
public struct PostgresKeyStore: KeyStore, CustomStringConvertible {
    public let database: PostgresDatabase
    private let keyCache: EpochCache<KeyRecord>?
    private let aliasCache: EpochCache<AliasRecord>?

    /// The keys in `database`; with `cacheEpoch`, up to `cacheCapacity` keys and as many aliases cached.
    public init(database: PostgresDatabase, cacheEpoch: PostgresCacheEpoch? = nil, cacheCapacity: Int = 50_000) {
        self.database = database
        self.keyCache = cacheEpoch.map { EpochCache(epoch: $0, capacity: cacheCapacity) }
        self.aliasCache = cacheEpoch.map { EpochCache(epoch: $0, capacity: cacheCapacity) }
    }

    public var description: String { "PostgresKeyStore(\(database.url))" }

    public func key(id: String) async throws -> KeyRecord? {
        guard let keyCache else { return try await read(keyID: id) }
        return try await keyCache.value(for: id, read: read(keyID:))
    }

    public func alias(named name: String) async throws -> AliasRecord? {
        guard let aliasCache else { return try await read(alias: name) }
        return try await aliasCache.value(for: name, read: read(alias:))
    }

    private func read(keyID id: String) async throws -> KeyRecord? {
        try Self.keys(from: try await database.query(KeyByID(id: id))).first
    }

    private func read(alias name: String) async throws -> AliasRecord? {
        try await database.query("SELECT * FROM kms_alias WHERE name = \(name)").first.map(Self.alias(from:))
    }

    public func keys(after marker: String?, limit: Int) async throws -> [KeyRecord] {
        guard limit > 0 else { return [] }
        return try await keys(
            selecting:
                "SELECT * FROM kms_key WHERE \(marker)::text IS NULL OR id > \(marker) ORDER BY id LIMIT \(limit)"
        )
    }

    public func aliases(targeting targetKeyID: String?, after marker: String?, limit: Int) async throws -> [AliasRecord]
    {
        guard limit > 0 else { return [] }
        return try await database.query(
            """
            SELECT * FROM kms_alias
            WHERE (\(targetKeyID)::text IS NULL OR target_key_id = \(targetKeyID))
                AND (\(marker)::text IS NULL OR name > \(marker))
            ORDER BY name LIMIT \(limit)
            """
        ).map(Self.alias(from:))
    }

    public func keysNeedingMaintenance(at now: Date) async throws -> [KeyRecord] {
        let instant = now.timeIntervalSinceReferenceDate
        if now >= .distantFuture {
            // `InMemoryKeyStore` reads an absent date as `.distantFuture`, which is "due" at that instant.
            return try await keys(
                selecting: """
                    SELECT * FROM kms_key WHERE next_maintenance_date IS NULL OR next_maintenance_date <= \(instant)
                    ORDER BY id
                    """
            )
        }
        return try await keys(
            selecting: "SELECT * FROM kms_key WHERE next_maintenance_date <= \(instant) ORDER BY id"
        )
    }

    public func commit(_ batch: KeyStoreBatch) async throws {
        guard !batch.changes.isEmpty else { return }
        forget(batch)
        defer { forget(batch) }
        try await database.transaction { connection in try await Self.apply(batch, on: connection) }
    }

    /// Drops from the caches what `batch` writes (with a key deleted, every alias: its aliases go with it).
    private func forget(_ batch: KeyStoreBatch) {
        var keys: [String] = []
        var aliases: [String] = []
        var deletesKeys = false
        for change in batch.changes {
            switch change {
            case .putKey(let record, _): keys.append(record.id)
            case .deleteKey(let id, _):
                keys.append(id)
                deletesKeys = true
            case .putAlias(let record, _): aliases.append(record.name)
            case .deleteAlias(let name, _): aliases.append(name)
            }
        }
        keyCache?.forget(keys)
        if deletesKeys { aliasCache?.forgetAll() } else { aliasCache?.forget(aliases) }
    }

    // MARK: - Writing

    /// Checks every expected revision against the stored state, then applies the changes in order; inside the
    /// transaction, so a throw rolls everything back.
    private static func apply(_ batch: KeyStoreBatch, on connection: PostgresConnection) async throws {
        for change in batch.changes {
            let stored: Int?
            let expected: Int?
            switch change {
            case .putKey(let record, let expectedRevision):
                stored = try await revision(on: connection, "SELECT revision FROM kms_key WHERE id = \(record.id)")
                expected = expectedRevision
            case .deleteKey(let id, let expectedRevision):
                stored = try await revision(on: connection, "SELECT revision FROM kms_key WHERE id = \(id)")
                expected = expectedRevision
            case .putAlias(let record, let expectedRevision):
                stored = try await revision(
                    on: connection,
                    "SELECT revision FROM kms_alias WHERE name = \(record.name)"
                )
                expected = expectedRevision
            case .deleteAlias(let name, let expectedRevision):
                stored = try await revision(on: connection, "SELECT revision FROM kms_alias WHERE name = \(name)")
                expected = expectedRevision
            }
            guard stored == expected else { throw KeyStoreConflict() }
        }
        for change in batch.changes {
            switch change {
            case .putKey(let record, _):
                try await put(record, on: connection)
            case .deleteKey(let id, _):
                // The material goes with the key (ON DELETE CASCADE).
                try await connection.run("DELETE FROM kms_alias WHERE target_key_id = \(id)")
                try await connection.run("DELETE FROM kms_key WHERE id = \(id)")
            case .putAlias(let record, _):
                try await connection.run(
                    """
                    INSERT INTO kms_alias (name, target_key_id, creation_date, last_updated_date, revision)
                    VALUES (\(record.name), \(record.targetKeyID),
                        \(record.creationDate.timeIntervalSinceReferenceDate),
                        \(record.lastUpdatedDate.timeIntervalSinceReferenceDate), \(record.revision))
                    ON CONFLICT (name) DO UPDATE SET target_key_id = excluded.target_key_id,
                        creation_date = excluded.creation_date, last_updated_date = excluded.last_updated_date,
                        revision = excluded.revision
                    """
                )
            case .deleteAlias(let name, _):
                try await connection.run("DELETE FROM kms_alias WHERE name = \(name)")
            }
        }
    }

    private static func revision(on connection: PostgresConnection, _ query: PostgresQuery) async throws -> Int? {
        try await connection.run(query).first?.decode(Int.self)
    }

    private static func put(_ record: KeyRecord, on connection: PostgresConnection) async throws {
        let tags = String(decoding: try JSONEncoder().encode(record.tags), as: UTF8.self)
        var bindings = PostgresBindings(capacity: 17)
        bindings.append(record.id)
        bindings.append(record.arn)
        bindings.append(record.keyDescription)
        bindings.append(record.creationDate.timeIntervalSinceReferenceDate)
        bindings.append(record.state.rawValue)
        bindings.append(record.deletionDate?.timeIntervalSinceReferenceDate)
        bindings.append(record.pendingWindowInDays)
        bindings.append(record.keyUsage.rawValue)
        bindings.append(record.keySpec.rawValue)
        bindings.append(record.origin.rawValue)
        bindings.append(tags)
        bindings.append(record.policy)
        bindings.append(record.rotation.isEnabled)
        bindings.append(record.rotation.periodInDays)
        bindings.append(record.rotation.nextRotationDate?.timeIntervalSinceReferenceDate)
        bindings.append(record.nextMaintenanceDate?.timeIntervalSinceReferenceDate)
        bindings.append(record.revision)
        try await connection.run(PostgresQuery(unsafeSQL: upsertKey, binds: bindings))
        try await connection.run(
            "DELETE FROM kms_key_material WHERE key_id = \(record.id) AND position >= \(record.materials.count)"
        )
        for (position, material) in record.materials.enumerated() {
            // Rewrites a version only when it changed, so a rotation does not rewrite every older version.
            try await connection.run(
                try """
                INSERT INTO kms_key_material (key_id, position, version, material_id, creation_date, origin, sealed)
                VALUES (\(record.id), \(Int32(position)), \(Int64(material.version)), \(material.materialID),
                    \(material.creationDate.timeIntervalSinceReferenceDate), \(material.origin.rawValue),
                    \(material.sealed))
                ON CONFLICT (key_id, position) DO UPDATE SET version = excluded.version,
                    material_id = excluded.material_id, creation_date = excluded.creation_date,
                    origin = excluded.origin, sealed = excluded.sealed
                WHERE (kms_key_material.version, kms_key_material.material_id, kms_key_material.creation_date,
                        kms_key_material.origin, kms_key_material.sealed)
                    IS DISTINCT FROM (excluded.version, excluded.material_id, excluded.creation_date,
                        excluded.origin, excluded.sealed)
                """
            )
        }
    }

    /// The upsert of a key's row; its seventeen values are bound in ``put(_:on:)``'s order.
    private static let upsertKey = """
        INSERT INTO kms_key (id, arn, description, creation_date, state, deletion_date, pending_window_in_days,
            key_usage, key_spec, origin, tags, policy, rotation_enabled, rotation_period_in_days,
            next_rotation_date, next_maintenance_date, revision)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
        ON CONFLICT (id) DO UPDATE SET arn = excluded.arn, description = excluded.description,
            creation_date = excluded.creation_date, state = excluded.state,
            deletion_date = excluded.deletion_date, pending_window_in_days = excluded.pending_window_in_days,
            key_usage = excluded.key_usage, key_spec = excluded.key_spec, origin = excluded.origin,
            tags = excluded.tags, policy = excluded.policy, rotation_enabled = excluded.rotation_enabled,
            rotation_period_in_days = excluded.rotation_period_in_days,
            next_rotation_date = excluded.next_rotation_date,
            next_maintenance_date = excluded.next_maintenance_date, revision = excluded.revision
        """

    // MARK: - Reading

    /// The keys `selection` (a `SELECT * FROM kms_key …` with its bound values) selects, in its order, each with its
    /// key-material versions: one statement, the selection joined with the material.
    private func keys(selecting selection: PostgresQuery) async throws -> [KeyRecord] {
        var query = selection
        query.sql = """
            SELECT \(Self.keyColumns)
            FROM (\(selection.sql)) AS k
            LEFT JOIN kms_key_material AS m ON m.key_id = k.id
            ORDER BY k.id, m.position
            """
        return try Self.keys(from: try await database.query(query))
    }

    /// A key's row joined with its material's rows (`k` and `m`), as every read selects them.
    private static let keyColumns = """
        k.id, k.arn, k.description, k.creation_date, k.state, k.deletion_date, k.pending_window_in_days,
            k.key_usage, k.key_spec, k.origin, k.tags, k.policy, k.rotation_enabled, k.rotation_period_in_days,
            k.next_rotation_date, k.revision, m.version AS m_version, m.material_id AS m_material_id,
            m.creation_date AS m_creation_date, m.origin AS m_origin, m.sealed AS m_sealed
        """

    /// The read of one key (with its material) that a KMS request makes when the key is not cached.
    private struct KeyByID: PreparedQuery {
        static let name = "sealed_key_by_id"
        static let sql = """
            SELECT \(keyColumns)
            FROM kms_key AS k
            LEFT JOIN kms_key_material AS m ON m.key_id = k.id
            WHERE k.id = $1
            ORDER BY m.position
            """
        var id: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(id)
            return bindings
        }
    }

    /// The keys of `rows` (each key's row joined with its material's, ordered by key and position).
    private static func keys(from rows: [PostgresRow]) throws -> [KeyRecord] {
        var records: [KeyRecord] = []
        for row in rows {
            let row = row.makeRandomAccess()
            let id: String = try row.value("id")
            if records.last?.id != id { records.append(try key(from: row)) }
            if let version = try row.value("m_version", as: Int64?.self) {
                records[records.count - 1].materials.append(
                    SealedMaterial(
                        version: UInt32(truncatingIfNeeded: version),
                        materialID: try row.value("m_material_id"),
                        creationDate: try row.date("m_creation_date"),
                        origin: SealedMaterial.Origin(rawValue: try row.value("m_origin")),
                        sealed: try row.value("m_sealed")
                    )
                )
            }
        }
        return records
    }

    private static func key(from row: PostgresRandomAccessRow) throws -> KeyRecord {
        let tags: String = try row.value("tags")
        return KeyRecord(
            id: try row.value("id"),
            arn: try row.value("arn"),
            keyDescription: try row.value("description"),
            creationDate: try row.date("creation_date"),
            state: KeyState(rawValue: try row.value("state")),
            deletionDate: try row.optionalDate("deletion_date"),
            pendingWindowInDays: try row.value("pending_window_in_days"),
            keyUsage: KeyUsage(rawValue: try row.value("key_usage")),
            keySpec: KeySpec(rawValue: try row.value("key_spec")),
            origin: Origin(rawValue: try row.value("origin")),
            tags: try JSONDecoder().decode([Tag].self, from: Data(tags.utf8)),
            policy: try row.value("policy"),
            rotation: RotationSettings(
                isEnabled: try row.value("rotation_enabled"),
                periodInDays: try row.value("rotation_period_in_days"),
                nextRotationDate: try row.optionalDate("next_rotation_date")
            ),
            materials: [],
            revision: try row.value("revision")
        )
    }

    private static func alias(from row: PostgresRow) throws -> AliasRecord {
        let row = row.makeRandomAccess()
        return AliasRecord(
            name: try row.value("name"),
            targetKeyID: try row.value("target_key_id"),
            creationDate: try row.date("creation_date"),
            lastUpdatedDate: try row.date("last_updated_date"),
            revision: try row.value("revision")
        )
    }
}
