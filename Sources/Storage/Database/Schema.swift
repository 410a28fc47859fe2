import GRDB

/// The tables, their migrations, and the checks made before migrating.
///
/// Dates are stored as `REAL` seconds since 2001-01-01 (`Date.timeIntervalSinceReferenceDate`), which is how
/// `Date` holds them, so they round-trip exactly. Text compares with SQLite's `BINARY` collation (UTF-8 bytes, that is
/// code-point order), which is the order of Swift's `<` on the ASCII identifiers stored here.
enum Schema {
    /// What a database holds before migrating.
    enum Found: Equatable {
        /// A new file.
        case empty
        /// Ours, of this format, with only migrations this program knows.
        case current
        /// Ours, of another format version.
        case otherFormat(Int)
        /// Ours, with migrations a newer program applied.
        case newerProgram
        /// Tables, but not ours.
        case foreign
    }

    static func inspect(_ db: Database, migrator: DatabaseMigrator) throws -> Found {
        let tableCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
        if tableCount == 0 { return .empty }
        guard try db.tableExists("meta") else { return .foreign }
        guard let version = try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'format_version'") else {
            return .foreign
        }
        if version != SQLiteDatabase.formatVersion { return .otherFormat(version) }
        if try migrator.hasBeenSuperseded(db) { return .newerProgram }
        return .current
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        name TEXT PRIMARY KEY NOT NULL,
                        value NOT NULL
                    );
                    INSERT INTO meta (name, value) VALUES ('format_version', \(SQLiteDatabase.formatVersion));

                    CREATE TABLE kms_key (
                        id TEXT PRIMARY KEY NOT NULL,
                        arn TEXT NOT NULL,
                        description TEXT NOT NULL,
                        creation_date REAL NOT NULL,
                        state TEXT NOT NULL,
                        deletion_date REAL,
                        pending_window_in_days INTEGER,
                        key_usage TEXT NOT NULL,
                        key_spec TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        tags TEXT NOT NULL,
                        policy TEXT NOT NULL,
                        rotation_enabled INTEGER NOT NULL,
                        rotation_period_in_days INTEGER,
                        next_rotation_date REAL,
                        next_maintenance_date REAL,
                        revision INTEGER NOT NULL
                    );
                    CREATE INDEX kms_key_on_next_maintenance_date ON kms_key (next_maintenance_date)
                        WHERE next_maintenance_date IS NOT NULL;

                    CREATE TABLE kms_key_material (
                        key_id TEXT NOT NULL REFERENCES kms_key (id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        version INTEGER NOT NULL,
                        material_id TEXT NOT NULL,
                        creation_date REAL NOT NULL,
                        origin TEXT NOT NULL,
                        sealed BLOB NOT NULL,
                        PRIMARY KEY (key_id, position)
                    );

                    CREATE TABLE kms_alias (
                        name TEXT PRIMARY KEY NOT NULL,
                        target_key_id TEXT NOT NULL,
                        creation_date REAL NOT NULL,
                        last_updated_date REAL NOT NULL,
                        revision INTEGER NOT NULL
                    );
                    CREATE INDEX kms_alias_on_target_key_id ON kms_alias (target_key_id, name);

                    CREATE TABLE access_key (
                        id TEXT PRIMARY KEY NOT NULL,
                        principal_arn TEXT NOT NULL,
                        status TEXT NOT NULL,
                        sealed_secret BLOB NOT NULL,
                        sealed_session_token BLOB,
                        expiration REAL,
                        creation_date REAL NOT NULL
                    );
                    CREATE INDEX access_key_on_principal_arn ON access_key (principal_arn, id);
                    """
            )
        }
        // Identities, the catalog and access requests: one JSON document per record (their fields are the domain
        // modules' Codable records), keyed by name or id. They are read whole at start and written one record at a
        // time, so no column of theirs is queried.
        migrator.registerMigration("v2-platform") { db in
            try db.execute(
                sql: """
                    CREATE TABLE iam_user (name TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    CREATE TABLE iam_team (name TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    CREATE TABLE iam_role (name TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    CREATE TABLE catalog_domain (name TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    CREATE TABLE catalog_event_type (name TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    CREATE TABLE access_request (id TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    """
            )
        }
        // Compare-and-set versions of roles and access requests (a write based on a stale read fails), and the
        // expiration index the sweep of expired role sessions uses.
        migrator.registerMigration("v3-record-versions") { db in
            try db.execute(
                sql: """
                    ALTER TABLE iam_role ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE access_request ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                    CREATE INDEX access_key_on_expiration ON access_key (expiration) WHERE expiration IS NOT NULL;
                    """
            )
        }
        // The owner of each consumer group (the principal that first used it), for every bus transport.
        migrator.registerMigration("v4-consumer-group-owner") { db in
            try db.execute(
                sql: """
                    CREATE TABLE bus_group_owner (
                        topic TEXT NOT NULL,
                        group_name TEXT NOT NULL,
                        owner TEXT NOT NULL,
                        PRIMARY KEY (topic, group_name)
                    );
                    """
            )
        }
        // Data subjects: the domains' pseudonym secrets (sealed under the root key), the registry of subjects'
        // branch keys and the erasure fences, keyed by pseudonym (no subject id is stored).
        migrator.registerMigration("v5-subjects") { db in
            try db.execute(
                sql: """
                    CREATE TABLE subject_secret (domain TEXT PRIMARY KEY NOT NULL, sealed BLOB NOT NULL);
                    CREATE TABLE subject_key (
                        branch_key_id TEXT PRIMARY KEY NOT NULL,
                        domain TEXT NOT NULL,
                        pseudonym TEXT NOT NULL,
                        document BLOB NOT NULL
                    );
                    CREATE INDEX subject_key_on_pseudonym ON subject_key (domain, pseudonym);
                    CREATE TABLE subject_fence (
                        domain TEXT NOT NULL,
                        pseudonym TEXT NOT NULL,
                        document BLOB NOT NULL,
                        PRIMARY KEY (domain, pseudonym)
                    );
                    """
            )
        }
        // Teams' outgoing webhooks (URL and signing secret sealed under the root key) and their delivery log.
        migrator.registerMigration("v6-team-webhooks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE team_webhook (
                        team TEXT PRIMARY KEY NOT NULL,
                        sealed BLOB NOT NULL,
                        creation_date REAL NOT NULL,
                        secret_date REAL NOT NULL
                    );
                    CREATE TABLE webhook_delivery (
                        id TEXT PRIMARY KEY NOT NULL,
                        team TEXT NOT NULL,
                        creation_date REAL NOT NULL,
                        document BLOB NOT NULL
                    );
                    CREATE INDEX webhook_delivery_on_team ON webhook_delivery (team, creation_date);
                    """
            )
        }
        // Compare-and-set versions of users and teams, as of roles (v3): two servers on one database cannot both
        // apply a change read from the same version.
        migrator.registerMigration("v7-identity-versions") { db in
            try db.execute(
                sql: """
                    ALTER TABLE iam_user ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE iam_team ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                    """
            )
        }
        return migrator
    }
}
