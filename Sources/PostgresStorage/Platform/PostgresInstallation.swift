import AccessControl
public import Crypto
public import Foundation
package import PostgresNIO
import SealedSupport
import Storage

/// What a PostgreSQL database was installed for: the root key (as a check value sealed under it), the account and
/// region, and the administrator; the PostgreSQL counterpart of the data directory's `meta` table.
///
/// The first replica to start on an empty database installs it: in one serializable transaction it stores the check
/// value, the account, region and administrator ARN, and the administrator's access key (sealed under the root key),
/// having first written that access key to the administrator credentials file (mode 0600). Replicas starting at once
/// serialize on that transaction: one installs, the others find its installation. Every later start, on any replica,
/// opens the check value with its root key before anything is served: a replica given another root key, or another
/// account or region, is refused with a ``Storage/StorageError`` and changes nothing.
public struct PostgresInstallation: Sendable {
    /// The administrator's ARN (`arn:aws:iam::ACCOUNT:user/admin`).
    public let administratorARN: String
    /// Whether this start installed the database (and wrote the administrator credentials file).
    public let wasCreated: Bool

    private static let canaryPlaintext = Data("sealed-events postgresql canary v1".utf8)
    private static let canaryAAD = Data("sealed-events/postgres-root-key-canary/v1".utf8)

    /// Checks the database's installation against `rootKey`, `account` and `region`, installing it on first start.
    ///
    /// - Parameters:
    ///   - database: The platform's database, migrated.
    ///   - rootKey: The root key every replica is given.
    ///   - account: The account of the platform's ARNs.
    ///   - region: The region of the platform's ARNs.
    ///   - administratorCredentials: Where the replica that installs the database writes the administrator's access
    ///     key (AWS shared-credentials format, profile `sealed-admin`, mode 0600); `nil` refuses to install.
    /// - Throws: ``Storage/StorageError`` `wrongRootKey`, `configurationMismatch`, `missingAdministratorCredentials`
    ///   (an empty database and no file to write), `fileSystem`, `databaseUnavailable`.
    public static func open(
        database: PostgresDatabase,
        rootKey: SymmetricKey,
        account: String,
        region: String,
        administratorCredentials: URL?
    ) async throws -> PostgresInstallation {
        if let meta = try await database.snapshot({ try await read(on: $0) }) {
            return try check(meta, database: database, rootKey: rootKey, account: account, region: region)
        }
        guard let file = administratorCredentials else {
            throw StorageError(
                .missingAdministratorCredentials,
                "The database \(database.url) is empty: start its first replica with --admin-credentials-file PATH, "
                    + "where the administrator's access key will be written (mode 0600). Nothing was changed."
            )
        }
        let administrator = "arn:aws:iam::\(account):user/\(DataDirectory.administratorUserName)"
        let accessKey = AccessKey.generate(for: administrator)
        // The file first: should the transaction not commit, the next start installs again and replaces it; the
        // other way round, a crash could leave an administrator nobody can use.
        try write(accessKey, to: file, database: database, account: account, region: region)
        let credentials = PostgresCredentialStore(database: database, rootKey: rootKey)
        let existing = try await database.transaction { connection -> Meta? in
            if let meta = try await read(on: connection) { return meta }
            try await record(on: connection, rootKey: rootKey, account: account, region: region, administrator: administrator)
            try await credentials.insert(accessKey, on: connection)
            return nil
        }
        guard let existing else { return PostgresInstallation(administratorARN: administrator, wasCreated: true) }
        // Another replica installed it meanwhile: its administrator stands, this one's file names nobody.
        try? FileManager.default.removeItem(at: file)
        return try check(existing, database: database, rootKey: rootKey, account: account, region: region)
    }

    /// Writes the installation's entries (the root key's check value, account, region, administrator) in the
    /// caller's transaction: on first start, or for a data directory copied in (`sealed admin migrate`).
    package static func record(
        on connection: PostgresConnection,
        rootKey: SymmetricKey,
        account: String,
        region: String,
        administrator: String
    ) async throws {
        let canary = try AES.GCM.seal(canaryPlaintext, using: rootKey, authenticating: canaryAAD).combined!
        let entries: [(String, Data)] = [
            ("root_key_canary", canary), ("account", Data(account.utf8)), ("region", Data(region.utf8)),
            ("administrator", Data(administrator.utf8)),
        ]
        for (name, value) in entries {
            try await connection.run("INSERT INTO platform_meta (name, value) VALUES (\(name), \(value))")
        }
    }

    /// The names of the installation's entries in `platform_meta`.
    static let entryNames: Set<String> = ["root_key_canary", "account", "region", "administrator"]

    private struct Meta: Sendable {
        var canary: Data?
        var account: String?
        var region: String?
        var administrator: String?
    }

    /// The installation's entries, or `nil` when the database was never installed.
    private static func read(on connection: PostgresConnection) async throws -> Meta? {
        let rows = try await connection.run("SELECT name, value FROM platform_meta")
        guard !rows.isEmpty else { return nil }
        var meta = Meta()
        for row in rows {
            let (name, value) = try row.decode((String, Data).self)
            switch name {
            case "root_key_canary": meta.canary = value
            case "account": meta.account = String(decoding: value, as: UTF8.self)
            case "region": meta.region = String(decoding: value, as: UTF8.self)
            case "administrator": meta.administrator = String(decoding: value, as: UTF8.self)
            default: break
            }
        }
        return meta
    }

    private static func check(
        _ meta: Meta,
        database: PostgresDatabase,
        rootKey: SymmetricKey,
        account: String,
        region: String
    ) throws -> PostgresInstallation {
        let opened = meta.canary.flatMap { canary in
            try? AES.GCM.open(AES.GCM.SealedBox(combined: canary), using: rootKey, authenticating: canaryAAD)
        }
        guard opened == canaryPlaintext else {
            throw StorageError(
                .wrongRootKey,
                "The root key does not open the database \(database.url): it is not the key the database was "
                    + "installed with (every replica needs the same SEALED_ROOT_KEY or --root-key-file). Nothing was "
                    + "changed."
            )
        }
        guard meta.account == account, meta.region == region else {
            throw StorageError(
                .configurationMismatch,
                "The database \(database.url) was installed for account \(meta.account ?? "?") in region "
                    + "\(meta.region ?? "?"), not account \(account) in region \(region). Nothing was changed."
            )
        }
        return PostgresInstallation(
            administratorARN: meta.administrator ?? "arn:aws:iam::\(account):user/\(DataDirectory.administratorUserName)",
            wasCreated: false
        )
    }

    /// Writes the administrator's credentials file, mode 0600, durably, replacing what was there.
    private static func write(
        _ key: AccessKey,
        to file: URL,
        database: PostgresDatabase,
        account: String,
        region: String
    ) throws {
        let text = """
            # Administrator of the sealed database \(database.url) (account \(account), region \(region)).
            [\(DataDirectory.administratorProfile)]
            aws_access_key_id = \(key.id)
            aws_secret_access_key = \(key.secretAccessKey)

            """
        do {
            try DurableFile.write(Data(text.utf8), to: file, mode: 0o600)
        } catch let error as FileSystemError {
            throw StorageError(.fileSystem, error.description)
        }
    }
}
