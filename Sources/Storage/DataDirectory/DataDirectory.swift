import AccessControl
public import Crypto
public import Foundation
import GRDB
import SealedSupport

/// The server's data directory: root key, SQLite database, and administrator credentials.
///
/// ``open(at:environment:account:region:)`` creates the directory on first start and reuses it afterwards:
///
/// | file | mode | content |
/// | --- | --- | --- |
/// | `DIR/` | 0700 | |
/// | `DIR/root.key` | 0600 | the 256-bit root key in base64, unless `SEALED_ROOT_KEY` supplies it |
/// | `DIR/sealed.sqlite` (+ `-wal`, `-shm`) | 0600 | the database (WAL), migrated by ``SQLiteDatabase`` |
/// | `DIR/admin.credentials` | 0600 | the administrator's access key, AWS shared-credentials format |
///
/// An existing directory that group or others may use is tightened to 0700 when opened. The audit trail's files
/// (`DataDirectory+Audit.swift`), the embedded bus (`bus.sqlite`) and the DynamoDB tables (`tables.sqlite`,
/// ``SQLiteTableStore``) are created 0600 with `O_EXCL` too.
///
/// The database records its format version, the account and region it was made for, the administrator's ARN, and a
/// canary sealed under the root key. A directory whose database has another format version, whose canary does not
/// open under the root key, whose root key file can be read by group or others, or that was made for another account
/// or region is refused with a ``StorageError`` and left as it was: it is never reinitialised.
public struct DataDirectory: Sendable {
    /// `SEALED_ROOT_KEY`: the root key in base64, which then is never written to disk.
    public static let rootKeyVariable = "SEALED_ROOT_KEY"
    public static let rootKeyFileName = "root.key"
    public static let databaseFileName = "sealed.sqlite"
    public static let administratorCredentialsFileName = "admin.credentials"
    /// The administrator's user name.
    public static let administratorUserName = "admin"
    /// The profile of the administrator's credentials file.
    public static let administratorProfile = "sealed-admin"

    /// The directory.
    public let url: URL
    /// The 256-bit key that seals key material and secrets at rest.
    public let rootKey: SymmetricKey
    public let database: SQLiteDatabase
    public let keyStore: SQLiteKeyStore
    public let credentialStore: SQLiteCredentialStore
    /// Whether this call initialised the directory (first start).
    public let wasCreated: Bool
    /// `DIR/admin.credentials`.
    public let administratorCredentialsURL: URL
    /// `arn:aws:iam::ACCOUNT:user/admin`.
    public let administratorARN: String
    public let account: String
    public let region: String

    /// Opens the data directory at `url`, creating and initialising it on first start.
    ///
    /// - Parameters:
    ///   - url: The directory; created with its parents when absent.
    ///   - environment: Where `SEALED_ROOT_KEY` is looked up (the process environment, or a test's dictionary).
    ///   - account: The AWS account id of the server's ARNs; a directory remembers the one it was made for.
    ///   - region: The region of the server's ARNs; a directory remembers the one it was made for.
    /// - Throws: ``StorageError`` with code `incompatibleVersion`, `wrongRootKey`, `rootKeyPermissions`,
    ///   `invalidRootKey`, `missingRootKey`, `configurationMismatch`, `notADirectory`, `databaseUnavailable` or
    ///   `fileSystem`. None of them changes an existing directory.
    public static func open(
        at url: URL,
        environment: [String: String],
        account: String,
        region: String
    ) throws -> DataDirectory {
        let directory = url.standardizedFileURL
        try FileSystem.ensureDirectory(directory)
        let databaseURL = directory.appendingPathComponent(databaseFileName)
        let rootKey = try resolveRootKey(
            in: directory,
            environment: environment,
            databaseExists: FileSystem.exists(databaseURL)
        )
        if !FileSystem.exists(databaseURL) {
            // Created empty with mode 0600 first: SQLite gives its -wal and -shm files the database file's mode.
            try FileSystem.writeNewFile(databaseURL, contents: Data(), mode: 0o600)
        }
        let database = try SQLiteDatabase.open(at: databaseURL)
        do {
            return try initialise(
                directory,
                database: database,
                rootKey: rootKey,
                account: account,
                region: region
            )
        } catch {
            try? database.close()
            throw error
        }
    }

    /// Closes the database. The stores must not be used afterwards.
    public func close() throws { try database.close() }

    // MARK: - Root key

    private static func resolveRootKey(
        in directory: URL,
        environment: [String: String],
        databaseExists: Bool
    ) throws -> SymmetricKey {
        if let encoded = environment[rootKeyVariable] {
            return try parseRootKey(encoded, source: rootKeyVariable)
        }
        let file = directory.appendingPathComponent(rootKeyFileName)
        if let key = try readRootKey(file) { return key }
        guard !databaseExists else {
            throw StorageError(
                .missingRootKey,
                "The data directory \(directory.path) has a database but no root key: restore \(file.path) or set "
                    + "\(rootKeyVariable). Nothing was changed."
            )
        }
        let key = SymmetricKey(size: .bits256)
        let encoded = key.withUnsafeBytes { Base64.encode($0.assumingMemoryBound(to: UInt8.self)) } + "\n"
        try FileSystem.writeNewFile(file, contents: Data(encoded.utf8), mode: 0o600)
        return key
    }

    /// The root key in `file` (base64, mode 0600 or stricter), or `nil` when there is no such file.
    ///
    /// - Throws: ``StorageError`` `rootKeyPermissions` when group or others may use the file, `invalidRootKey`,
    ///   `fileSystem`.
    package static func readRootKey(_ file: URL) throws -> SymmetricKey? {
        guard let mode = try FileSystem.mode(of: file) else { return nil }
        guard mode & 0o077 == 0 else {
            throw StorageError(
                .rootKeyPermissions,
                "The root key file \(file.path) has mode \(String(mode & 0o777, radix: 8)); it must be readable "
                    + "by its owner only (chmod 600)."
            )
        }
        let contents = try FileSystem.read(file)
        return try parseRootKey(String(decoding: contents, as: UTF8.self), source: file.path)
    }

    /// A root key in base64 (32 bytes), read from `source` (named in the error).
    package static func parseRootKey(_ text: String, source: String) throws -> SymmetricKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = try? Base64.decode(trimmed), bytes.count == 32 else {
            throw StorageError(.invalidRootKey, "The root key in \(source) is not 32 bytes in base64.")
        }
        return SymmetricKey(data: bytes)
    }

    // MARK: - Initial state

    private static let canaryPlaintext = Data("sealed-events data directory canary v1".utf8)
    private static let canaryAAD = Data("sealed-events/root-key-canary/v1".utf8)

    private struct Meta: Sendable {
        var canary: Data?
        var account: String?
        var region: String?
        var administrator: String?
    }

    private static func readMeta(_ database: SQLiteDatabase) throws -> Meta {
        try database.pool.read { db in
            var meta = Meta()
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM meta") {
                let name: String = row["name"]
                switch name {
                case "root_key_canary": meta.canary = row["value"]
                case "account": meta.account = row["value"]
                case "region": meta.region = row["value"]
                case "administrator": meta.administrator = row["value"]
                default: break
                }
            }
            return meta
        }
    }

    private static func initialise(
        _ directory: URL,
        database: SQLiteDatabase,
        rootKey: SymmetricKey,
        account: String,
        region: String
    ) throws -> DataDirectory {
        let credentialsURL = directory.appendingPathComponent(administratorCredentialsFileName)
        let credentialStore = SQLiteCredentialStore(database: database, rootKey: rootKey)
        let meta: Meta
        do {
            meta = try readMeta(database)
        } catch {
            throw SQLiteDatabase.unavailable(database.url, error)
        }
        let administrator: String
        let created: Bool
        if let canary = meta.canary {
            let opened = try? AES.GCM.open(
                AES.GCM.SealedBox(combined: canary),
                using: rootKey,
                authenticating: canaryAAD
            )
            guard opened == canaryPlaintext else {
                throw StorageError(
                    .wrongRootKey,
                    "The root key does not open the data directory \(directory.path): it is not the key the "
                        + "directory was created with. Nothing was changed."
                )
            }
            guard meta.account == account, meta.region == region else {
                throw StorageError(
                    .configurationMismatch,
                    "The data directory \(directory.path) was created for account \(meta.account ?? "?") in region "
                        + "\(meta.region ?? "?"), not account \(account) in region \(region). Nothing was changed."
                )
            }
            administrator = meta.administrator ?? "arn:aws:iam::\(account):user/\(administratorUserName)"
            created = false
        } else {
            administrator = "arn:aws:iam::\(account):user/\(administratorUserName)"
            let accessKey = AccessKey.generate(for: administrator)
            let canary = try AES.GCM.seal(canaryPlaintext, using: rootKey, authenticating: canaryAAD).combined!
            // The credentials file first: if the transaction below does not commit, the next start initialises
            // again and overwrites it; the other way round, a crash could leave an administrator nobody can use.
            try FileSystem.replaceFile(
                credentialsURL,
                contents: Data(credentialsFile(accessKey, directory: directory, account: account, region: region).utf8),
                mode: 0o600
            )
            do {
                try database.pool.write { db in
                    let insert = "INSERT INTO meta (name, value) VALUES (?, ?)"
                    try db.execute(sql: insert, arguments: ["root_key_canary", canary])
                    try db.execute(sql: insert, arguments: ["account", account])
                    try db.execute(sql: insert, arguments: ["region", region])
                    try db.execute(sql: insert, arguments: ["administrator", administrator])
                    try db.execute(sql: insert, arguments: ["created", Date().timeIntervalSinceReferenceDate])
                    try credentialStore.insert(accessKey, in: db)
                }
            } catch {
                throw SQLiteDatabase.unavailable(database.url, error)
            }
            created = true
        }
        return DataDirectory(
            url: directory,
            rootKey: rootKey,
            database: database,
            keyStore: SQLiteKeyStore(database: database),
            credentialStore: credentialStore,
            wasCreated: created,
            administratorCredentialsURL: credentialsURL,
            administratorARN: administrator,
            account: account,
            region: region
        )
    }

    /// The administrator's credentials in the AWS shared-credentials format.
    static func credentialsFile(_ key: AccessKey, directory: URL, account: String, region: String) -> String {
        """
        # Administrator of the sealed data directory \(directory.path) (account \(account), region \(region)).
        [\(administratorProfile)]
        aws_access_key_id = \(key.id)
        aws_secret_access_key = \(key.secretAccessKey)

        """
    }
}

extension DataDirectory: CustomStringConvertible, CustomReflectable {
    /// Names the directory only: the root key never prints.
    public var description: String { "DataDirectory(\(url.path))" }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "url": url, "wasCreated": wasCreated, "administratorARN": administratorARN, "account": account,
                "region": region,
            ]
        )
    }
}
