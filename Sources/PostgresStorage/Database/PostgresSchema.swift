import Logging
import PostgresNIO
import Storage

/// One step of the schema: a version number and the statements that take the database from the version before it.
package struct PostgresMigration: Sendable {
    package var version: Int
    package var name: String
    /// DDL only, constant text: no value of a request is ever part of it.
    package var statements: [String]

    package init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// The tables of the PostgreSQL back end, their migrations, and how they are applied.
///
/// **Applying.** ``migrate(_:migrations:logger:)`` runs in one transaction that first takes the transaction-level
/// advisory lock ``lockKey``: replicas starting at once queue on it, the first applies what is missing and commits,
/// the next ones find nothing left to do. The applied versions are rows of `sealed_schema_migration`. A database
/// holding a version this program does not know was migrated by a newer program and is refused, unchanged; so is a
/// history with a gap or a renamed step (not ours, or altered by hand).
///
/// **Columns.** The layout follows the SQLite back end's, so both keep the same records the same way:
///
/// - Identifiers and names are `text COLLATE "C"`: compared and ordered by their UTF-8 bytes (code-point order),
///   which is Swift's `<` on strings and SQLite's `BINARY`; the database's own collation (`en_US.UTF-8`, …) would
///   page keys in another order than the in-memory and SQLite stores, and differently from server to server.
/// - Dates are `double precision` seconds since 2001-01-01, how `Date` holds them, so they round-trip exactly
///   (`timestamptz` keeps microseconds, and `Date`s here carry less significant digits).
/// - Records of the domain modules (users, teams, roles, event types, access requests, subjects' keys and fences)
///   are their `Codable` JSON, with sorted keys, in a `bytea`: exact bytes, never re-encoded; no column of theirs is
///   queried.
/// - Secrets and key material are `bytea` sealed under the root key before they reach the database.
package enum PostgresSchema {
    /// The `pg_advisory_xact_lock` key migrations take: "sealed-ev" in ASCII.
    static let lockKey: Int64 = 0x7365_616C_6564_2D65

    /// The newest schema version this program knows.
    package static var version: Int { migrations.last?.version ?? 0 }

    package static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1,
            name: "keys-credentials-platform",
            statements: [
                """
                CREATE TABLE kms_key (
                    id text COLLATE "C" PRIMARY KEY,
                    arn text NOT NULL,
                    description text NOT NULL,
                    creation_date double precision NOT NULL,
                    state text NOT NULL,
                    deletion_date double precision,
                    pending_window_in_days bigint,
                    key_usage text NOT NULL,
                    key_spec text NOT NULL,
                    origin text NOT NULL,
                    tags text NOT NULL,
                    policy text NOT NULL,
                    rotation_enabled boolean NOT NULL,
                    rotation_period_in_days bigint,
                    next_rotation_date double precision,
                    next_maintenance_date double precision,
                    revision bigint NOT NULL
                )
                """,
                """
                CREATE INDEX kms_key_on_next_maintenance_date ON kms_key (next_maintenance_date)
                    WHERE next_maintenance_date IS NOT NULL
                """,
                """
                CREATE TABLE kms_key_material (
                    key_id text COLLATE "C" NOT NULL REFERENCES kms_key (id) ON DELETE CASCADE,
                    position integer NOT NULL,
                    version bigint NOT NULL,
                    material_id text NOT NULL,
                    creation_date double precision NOT NULL,
                    origin text NOT NULL,
                    sealed bytea NOT NULL,
                    PRIMARY KEY (key_id, position)
                )
                """,
                """
                CREATE TABLE kms_alias (
                    name text COLLATE "C" PRIMARY KEY,
                    target_key_id text COLLATE "C" NOT NULL,
                    creation_date double precision NOT NULL,
                    last_updated_date double precision NOT NULL,
                    revision bigint NOT NULL
                )
                """,
                "CREATE INDEX kms_alias_on_target_key_id ON kms_alias (target_key_id, name)",
                """
                CREATE TABLE access_key (
                    id text COLLATE "C" PRIMARY KEY,
                    principal_arn text COLLATE "C" NOT NULL,
                    status text NOT NULL,
                    sealed_secret bytea NOT NULL,
                    sealed_session_token bytea,
                    expiration double precision,
                    creation_date double precision NOT NULL
                )
                """,
                "CREATE INDEX access_key_on_principal_arn ON access_key (principal_arn, id)",
                "CREATE INDEX access_key_on_expiration ON access_key (expiration) WHERE expiration IS NOT NULL",
                #"CREATE TABLE iam_user (name text COLLATE "C" PRIMARY KEY, document bytea NOT NULL)"#,
                #"CREATE TABLE iam_team (name text COLLATE "C" PRIMARY KEY, document bytea NOT NULL)"#,
                """
                CREATE TABLE iam_role (
                    name text COLLATE "C" PRIMARY KEY, document bytea NOT NULL, version bigint NOT NULL
                )
                """,
                #"CREATE TABLE catalog_domain (name text COLLATE "C" PRIMARY KEY, document bytea NOT NULL)"#,
                #"CREATE TABLE catalog_event_type (name text COLLATE "C" PRIMARY KEY, document bytea NOT NULL)"#,
                """
                CREATE TABLE access_request (
                    id text COLLATE "C" PRIMARY KEY, document bytea NOT NULL, version bigint NOT NULL
                )
                """,
                #"CREATE TABLE subject_secret (domain text COLLATE "C" PRIMARY KEY, sealed bytea NOT NULL)"#,
                """
                CREATE TABLE subject_key (
                    branch_key_id text COLLATE "C" PRIMARY KEY,
                    domain text COLLATE "C" NOT NULL,
                    pseudonym text COLLATE "C" NOT NULL,
                    document bytea NOT NULL
                )
                """,
                "CREATE INDEX subject_key_on_pseudonym ON subject_key (domain, pseudonym)",
                """
                CREATE TABLE subject_fence (
                    domain text COLLATE "C" NOT NULL,
                    pseudonym text COLLATE "C" NOT NULL,
                    document bytea NOT NULL,
                    PRIMARY KEY (domain, pseudonym)
                )
                """,
                """
                CREATE TABLE team_webhook (
                    team text COLLATE "C" PRIMARY KEY,
                    sealed bytea NOT NULL,
                    creation_date double precision NOT NULL,
                    secret_date double precision NOT NULL
                )
                """,
                """
                CREATE TABLE webhook_delivery (
                    id text COLLATE "C" PRIMARY KEY,
                    team text COLLATE "C" NOT NULL,
                    creation_date double precision NOT NULL,
                    sequence bigint GENERATED ALWAYS AS IDENTITY,
                    document bytea NOT NULL
                )
                """,
                "CREATE INDEX webhook_delivery_on_team ON webhook_delivery (team, creation_date, sequence)",
                """
                CREATE TABLE bus_group_owner (
                    topic text COLLATE "C" NOT NULL,
                    group_name text COLLATE "C" NOT NULL,
                    owner text NOT NULL,
                    PRIMARY KEY (topic, group_name)
                )
                """,
            ]
        ),
        // The embedded table service's tables and items (`PostgresTableStore`).
        PostgresMigration(
            version: 2,
            name: "tables",
            statements: [
                #"CREATE TABLE ddb_table (name text COLLATE "C" PRIMARY KEY, document bytea NOT NULL)"#,
                """
                CREATE TABLE ddb_item (
                    table_name text COLLATE "C" NOT NULL REFERENCES ddb_table (name) ON DELETE CASCADE,
                    partition_key bytea NOT NULL,
                    sort_key bytea NOT NULL,
                    document bytea NOT NULL,
                    PRIMARY KEY (table_name, partition_key, sort_key)
                )
                """,
            ]
        ),
        // The embedded event bus (`PostgresTransport`): topics with their offset counter, events, consumer groups.
        PostgresMigration(
            version: 3,
            name: "event-bus",
            statements: [
                """
                CREATE TABLE bus_topic (
                    name text COLLATE "C" PRIMARY KEY,
                    retention_seconds bigint,
                    retention_bytes bigint,
                    next_offset bigint NOT NULL DEFAULT 1,
                    bytes bigint NOT NULL DEFAULT 0,
                    creation_date double precision NOT NULL
                )
                """,
                """
                CREATE TABLE bus_event (
                    topic text COLLATE "C" NOT NULL REFERENCES bus_topic (name) ON DELETE CASCADE,
                    event_offset bigint NOT NULL,
                    event_id text COLLATE "C" NOT NULL,
                    payload bytea NOT NULL,
                    size integer NOT NULL,
                    publish_time double precision NOT NULL,
                    PRIMARY KEY (topic, event_offset),
                    UNIQUE (topic, event_id)
                )
                """,
                "CREATE INDEX bus_event_on_publish_time ON bus_event (topic, publish_time)",
                """
                CREATE TABLE bus_group (
                    topic text COLLATE "C" NOT NULL REFERENCES bus_topic (name) ON DELETE CASCADE,
                    group_name text COLLATE "C" NOT NULL,
                    committed bigint NOT NULL DEFAULT 0,
                    handed_out_through bigint NOT NULL DEFAULT 0,
                    redeliver_at double precision NOT NULL DEFAULT 0,
                    PRIMARY KEY (topic, group_name)
                )
                """,
            ]
        ),
        // The audit trail (`PostgresAuditStore`): the chain head, records, their key index, digests, signing key.
        auditTrailMigration,
        // The installation (`PostgresInstallation`): the root key's check value, the account, region and administrator
        // the database was made for.
        PostgresMigration(
            version: 5,
            name: "installation",
            statements: [
                #"CREATE TABLE platform_meta (name text COLLATE "C" PRIMARY KEY, value bytea NOT NULL)"#
            ]
        ),
        // Compare-and-set versions of users and teams, as of roles: two replicas cannot both apply a change read from
        // the same version.
        PostgresMigration(
            version: 6,
            name: "identity-versions",
            statements: [
                "ALTER TABLE iam_user ADD COLUMN version bigint NOT NULL DEFAULT 1",
                "ALTER TABLE iam_team ADD COLUMN version bigint NOT NULL DEFAULT 1",
            ]
        ),
        // The version of what replicas cache (`PostgresCacheEpoch`): one more in the transaction of every change that
        // can make a cached key, alias or access key stale. Constraint triggers deferred to the commit take the
        // counter's row lock last, after every other lock of their transaction, so two writers cannot deadlock on it.
        PostgresMigration(
            version: 7,
            name: "cache-epoch",
            statements: [
                """
                CREATE TABLE cache_epoch (
                    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    value bigint NOT NULL
                )
                """,
                "INSERT INTO cache_epoch (value) VALUES (1)",
                """
                CREATE FUNCTION sealed_cache_epoch_advance() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE cache_epoch SET value = value + 1;
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE CONSTRAINT TRIGGER kms_key_changed AFTER UPDATE OR DELETE ON kms_key
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sealed_cache_epoch_advance()
                """,
                """
                CREATE CONSTRAINT TRIGGER kms_alias_changed AFTER UPDATE OR DELETE ON kms_alias
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sealed_cache_epoch_advance()
                """,
                """
                CREATE CONSTRAINT TRIGGER access_key_changed AFTER UPDATE OR DELETE ON access_key
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sealed_cache_epoch_advance()
                """,
            ]
        ),
    ]

    /// Brings the database at `url` to the newest of `migrations`, on one connection of its own, under the advisory
    /// lock.
    ///
    /// - Throws: ``Storage/StorageError`` `incompatibleVersion` when the database holds a version `migrations` does
    ///   not have (nothing is changed); `databaseUnavailable` when PostgreSQL cannot be reached or refuses a step
    ///   (the transaction rolls back whole).
    static func migrate(_ url: PostgresURL, migrations: [PostgresMigration], logger: Logger) async throws {
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try url.connectionConfiguration()
        } catch {
            throw StorageError(.invalidDatabaseURL, "The TLS settings of \(url) could not be loaded: \(error).")
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: configuration,
                id: 0,
                logger: logger
            )
        } catch let error as PSQLError {
            throw PostgresDatabase.unavailable(url, error)
        } catch {
            throw StorageError(.databaseUnavailable, "PostgreSQL at \(url) could not be reached: \(error).")
        }
        let outcome: Result<[Int], any Error>
        do {
            outcome = .success(
                try await PostgresDatabase.run(
                    { connection in try await apply(migrations, url: url, on: connection) },
                    on: connection,
                    begin: "BEGIN"
                )
            )
        } catch let error as PSQLError {
            outcome = .failure(PostgresDatabase.unavailable(url, error))
        } catch {
            outcome = .failure(error)
        }
        try? await connection.close()
        let applied = try outcome.get()
        if !applied.isEmpty {
            logger.notice(
                "Migrated the PostgreSQL schema",
                metadata: ["database": "\(url)", "versions": "\(applied.map(String.init).joined(separator: ","))"]
            )
        }
    }

    /// Inside the migration's transaction: waits for the lock, reads the history, applies what is missing; returns
    /// the versions applied.
    private static func apply(
        _ migrations: [PostgresMigration],
        url: PostgresURL,
        on connection: PostgresConnection
    ) async throws -> [Int] {
        try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))")
        try await connection.run(
            """
            CREATE TABLE IF NOT EXISTS sealed_schema_migration (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        let history = try await connection.run("SELECT version, name FROM sealed_schema_migration ORDER BY version")
            .map { row in try row.decode((Int, String).self) }
            .map { (version: $0.0, name: $0.1) }
        let known = migrations.last?.version ?? 0
        if let newest = history.last?.version, newest > known {
            throw StorageError(
                .incompatibleVersion,
                "The database \(url) has schema version \(newest); this program knows versions up to \(known). "
                    + "A newer version of this program migrated it: run that version. The database was left unchanged."
            )
        }
        for (index, step) in history.enumerated() {
            guard index < migrations.count, migrations[index].version == step.version,
                migrations[index].name == step.name
            else {
                throw StorageError(
                    .incompatibleVersion,
                    "The database \(url) has a schema history this program does not recognise (version "
                        + "\(step.version) \"\(step.name)\"). The database was left unchanged."
                )
            }
        }
        var applied: [Int] = []
        for migration in migrations.dropFirst(history.count) {
            for statement in migration.statements {
                try await connection.run(PostgresQuery(unsafeSQL: statement))
            }
            try await connection.run(
                "INSERT INTO sealed_schema_migration (version, name) VALUES (\(migration.version), \(migration.name))"
            )
            applied.append(migration.version)
        }
        return applied
    }
}
