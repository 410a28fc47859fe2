public import Foundation
import GRDB

/// One SQLite database file, opened as a GRDB `DatabasePool` in WAL mode and migrated to the current schema.
///
/// The stores of this module share one instance: ``SQLiteKeyStore`` and ``SQLiteCredentialStore`` take it in their
/// initialisers. Readers run concurrently on snapshots; writes are serialised, each in one transaction.
///
/// Opening refuses, with ``StorageError/Code/incompatibleVersion`` and without writing anything, a database whose
/// stored ``formatVersion`` differs from this program's, one migrated by a newer program (migrations this program
/// does not know), and an SQLite file that is not ours.
public final class SQLiteDatabase: Sendable {
    /// The layout of the database this program reads and writes; bumped on changes that are not additive migrations.
    public static let formatVersion = 1

    /// Where the database file is.
    public let url: URL
    let pool: DatabasePool

    private init(url: URL, pool: DatabasePool) {
        self.url = url
        self.pool = pool
    }

    /// Opens (creating if absent) the database at `url`, checks its format version and migrates it.
    ///
    /// - Throws: ``StorageError`` `incompatibleVersion` for a database of another format or a newer program;
    ///   `databaseUnavailable` when SQLite cannot open it (not a database file, unreadable, locked).
    public static func open(at url: URL) throws -> SQLiteDatabase {
        var configuration = Configuration()
        configuration.label = "sealed"
        configuration.foreignKeysEnabled = true
        // Another connection (a second reader, a crashed writer's recovery) may hold the lock briefly.
        configuration.busyMode = .timeout(10)
        // Inspected read-only first, so that a database this program must refuse is not even switched to WAL.
        let migrator = Schema.migrator
        if FileManager.default.fileExists(atPath: url.path) {
            var readOnly = Configuration()
            readOnly.readonly = true
            readOnly.busyMode = .timeout(10)
            do {
                let queue = try DatabaseQueue(path: url.path, configuration: readOnly)
                defer { try? queue.close() }
                let found = try queue.read { db in try Schema.inspect(db, migrator: migrator) }
                try refuse(found, url)
            } catch {
                throw unavailable(url, error)
            }
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
        } catch {
            throw unavailable(url, error)
        }
        do {
            // Again on the pool, in case another process changed the file in between.
            let found = try pool.read { db in try Schema.inspect(db, migrator: migrator) }
            try refuse(found, url)
            // GRDB sets `synchronous = NORMAL` with WAL, which survives a crashed process but may lose the last
            // commits on power loss. A key service must not forget a key whose ciphertexts it has handed out, so the
            // writer syncs the WAL on every commit.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try migrator.migrate(pool)
        } catch {
            try? pool.close()
            throw unavailable(url, error)
        }
        return SQLiteDatabase(url: url, pool: pool)
    }

    private static func refuse(_ found: Schema.Found, _ url: URL) throws {
        switch found {
        case .empty, .current:
            return
        case .otherFormat(let version):
            throw StorageError(
                .incompatibleVersion,
                "The database \(url.path) has format version \(version); this program reads format "
                    + "\(formatVersion). It was left unchanged."
            )
        case .newerProgram:
            throw StorageError(
                .incompatibleVersion,
                "The database \(url.path) was migrated by a newer version of this program. It was left unchanged."
            )
        case .foreign:
            throw StorageError(
                .incompatibleVersion,
                "\(url.path) is an SQLite database of some other program. It was left unchanged."
            )
        }
    }

    /// Closes the database's connections; the stores over it must not be used afterwards.
    ///
    /// Also happens when the last reference goes away. - Throws: when a statement is still running.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw Self.unavailable(url, error)
        }
    }

    /// Runs a `PRAGMA wal_checkpoint(TRUNCATE)`: the WAL's content moves into the main file.
    public func checkpoint() throws {
        do {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw Self.unavailable(url, error)
        }
    }

    /// The journal mode SQLite reports (`wal`).
    func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    static func unavailable(_ url: URL, _ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        if let error = error as? DatabaseError {
            return StorageError(
                .databaseUnavailable,
                "SQLite could not use \(url.path): \(error.message ?? "\(error.resultCode)")."
            )
        }
        return StorageError(.databaseUnavailable, "SQLite could not use \(url.path).")
    }
}

extension SQLiteDatabase: CustomStringConvertible {
    public var description: String { "SQLiteDatabase(\(url.path))" }
}
