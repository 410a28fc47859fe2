public import Foundation
import PostgresNIO

/// One named value of the platform's own, kept in the database for every replica (a row of `platform_meta`, beside
/// the installation's entries): the position of a background service that runs on one replica at a time and must go
/// on where the last leader stopped (CloudTrail ingest's files read and event ids appended).
public struct PostgresPlatformValue: Sendable {
    /// The database holding the value.
    public let database: PostgresDatabase
    /// The value's name; never one of the installation's (`root_key_canary`, `account`, `region`, `administrator`).
    public let name: String

    /// The value named `name` in `database`.
    ///
    /// - Precondition: `name` is not one of the installation's entries.
    public init(database: PostgresDatabase, name: String) {
        precondition(
            !PostgresInstallation.entryNames.contains(name),
            "\(name) is an entry of the installation, not a platform value"
        )
        self.database = database
        self.name = name
    }

    /// The value, or `nil` when none was saved.
    ///
    /// - Throws: ``Storage/StorageError`` `databaseUnavailable`.
    public func load() async throws -> Data? {
        let rows = try await database.query("SELECT value FROM platform_meta WHERE name = \(name)")
        return try rows.first?.decode(Data.self)
    }

    /// Saves `value` if the stored value is still `previous` (`nil`: none saved), in one statement; false, saving
    /// nothing, when another replica saved since (a replica that loads it afterwards sees it whole, or the one before).
    ///
    /// - Throws: ``Storage/StorageError`` `databaseUnavailable`.
    public func save(_ value: Data, replacing previous: Data?) async throws -> Bool {
        let rows =
            if let previous {
                try await database.query(
                    """
                    UPDATE platform_meta SET value = \(value) WHERE name = \(name) AND value = \(previous) RETURNING name
                    """
                )
            } else {
                try await database.query(
                    """
                    INSERT INTO platform_meta (name, value) VALUES (\(name), \(value))
                    ON CONFLICT (name) DO NOTHING RETURNING name
                    """
                )
            }
        return !rows.isEmpty
    }
}
