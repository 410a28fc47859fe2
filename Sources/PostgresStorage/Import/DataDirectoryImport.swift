public import AuditTrail
public import Foundation
public import Logging
import PostgresNIO
import Storage

/// `sealed admin migrate`: a data directory's whole state copied into an empty PostgreSQL database, so that replicas
/// on that database go on where the single server stopped.
///
/// What is copied: every table of `sealed.sqlite` (keys and their sealed material, credentials, identities, catalog,
/// access requests, subjects, webhooks and their deliveries, consumer-group owners), the table service's
/// `tables.sqlite`, the embedded bus's `bus.sqlite` (topics, events with their offsets, groups' committed offsets),
/// the audit trail record by record with its signed digests and its signing key, and the installation replicas check at
/// start (the root key's check value, account, region, administrator). Sealed values are copied as they
/// are: the replicas must run with the directory's root key. The trail is verified before anything is copied and
/// again in PostgreSQL afterwards.
///
/// The directory is locked for the copy (a server running on it is refused) and nothing in it changes, except that a
/// trail still in the old `audit.sqlite` is first moved to the log, as `sealed serve` does at start.
public enum DataDirectoryImport {
    /// What was copied.
    public struct Report: Sendable, CustomStringConvertible {
        /// Rows per PostgreSQL table, in copy order.
        public var rows: [(table: String, count: Int)]
        /// The source trail's verification, before the copy.
        public var before: VerificationReport
        /// The copy's verification.
        public var after: VerificationReport

        public var description: String {
            let width = rows.map(\.table.count).max() ?? 0
            let tables = rows.map { $0.table.padding(toLength: width, withPad: " ", startingAt: 0) + "  \($0.count)" }
            return (tables + ["audit trail before: \(before)", "audit trail after:  \(after)"])
                .joined(separator: "\n")
        }
    }

    /// Copies the data directory at `directory` into `database`, which must be empty.
    ///
    /// - Parameters:
    ///   - environment: Where `SEALED_ROOT_KEY` is looked up when the directory does not keep its root key.
    /// - Throws: ``ImportError`` when the database is not empty, the trail does not verify, or a table does not fit;
    ///   the directory's `StorageError`s (locked by a running server, wrong root key); PostgreSQL's.
    public static func copy(
        from directory: URL,
        into database: PostgresDatabase,
        environment: [String: String],
        logger: Logger
    ) async throws -> Report {
        try checkSource(directory)
        let platformFile = directory.appendingPathComponent(TableCopy.File.platform.rawValue)
        let lock = try DirectoryLock(directory: directory)
        defer { withExtendedLifetime(lock) {} }
        let (account, region) = try recordedLocation(platformFile)
        let source = try DataDirectory.open(at: directory, environment: environment, account: account, region: region)
        defer { try? source.close() }
        let (trail, signingKey) = try source.openAuditTrail(logger: logger)
        defer { try? trail.close() }
        let before = try await trail.verify(
            publicKey: signingKey.publicKey,
            anchor: try source.auditDigestAnchor.load(),
            unsignedLimit: Verifier.UnsignedLimit(reference: Date())
        )
        guard before.isValid else {
            throw ImportError("the data directory's audit trail does not verify, nothing was copied: \(before)")
        }
        try await requireEmpty(database)

        var rows: [(table: String, count: Int)] = []
        try await database.transaction { connection in
            rows = []
            // The installation replicas check at start: this root key, account, region and administrator.
            try await PostgresInstallation.record(
                on: connection,
                rootKey: source.rootKey,
                account: account,
                region: region,
                administrator: source.administratorARN
            )
            for copy in TableCopy.all {
                let file = directory.appendingPathComponent(copy.file.rawValue)
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                let count = try await Self.copy(copy, from: file, on: connection)
                rows.append((copy.target, count))
            }
        }

        let sealedKey = try Data(contentsOf: directory.appendingPathComponent(DataDirectory.auditSigningKeyFileName))
        _ = try await PostgresAuditStore.importSigningKey(sealed: sealedKey, in: database)
        let (copy, copiedKey) = try await PostgresAuditStore.openTrail(
            database: database,
            rootKey: source.rootKey,
            logger: logger
        )
        guard copiedKey.publicKeyPEM == signingKey.publicKeyPEM else {
            await copy.close()
            throw ImportError("the database already had another audit signing key")
        }
        let after: VerificationReport
        do {
            after = try await copy.importTrail(from: trail, publicKey: signingKey.publicKey)
            await copy.close()
        } catch {
            await copy.close()
            throw error
        }
        guard after.isValid, after.lastSequence == before.lastSequence, after.recordsChecked == before.recordsChecked
        else {
            throw ImportError("the copied audit trail does not match the data directory's: \(after)")
        }
        rows.append(("audit_record", after.recordsChecked))
        rows.append(("audit_digest", after.digestsChecked))
        return Report(rows: rows, before: before, after: after)
    }

    /// Refuses what is not a data directory, before any database is reached.
    public static func checkSource(_ directory: URL) throws {
        let file = directory.appendingPathComponent(TableCopy.File.platform.rawValue)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ImportError("\(directory.path) is not a data directory: it has no \(file.lastPathComponent)")
        }
    }

    /// The account and region the directory was made for (its `meta` table).
    static func recordedLocation(_ file: URL) throws -> (account: String, region: String) {
        let rows = try SQLiteRows(file: file)
        defer { try? rows.close() }
        var meta: [String: String] = [:]
        for row in try rows.page(of: "meta", columns: ["name", "value"], limit: 1000).rows {
            if case .text(let name) = row[0], case .text(let value) = row[1] { meta[name] = value }
        }
        guard let account = meta["account"], let region = meta["region"] else {
            throw ImportError("\(file.path) records no account and region: not a data directory of this program")
        }
        return (account, region)
    }

    /// Refuses a database holding anything this copy would write.
    static func requireEmpty(_ database: PostgresDatabase) async throws {
        let tables = Set(TableCopy.all.map(\.target)).sorted() + ["audit_record", "audit_digest", "audit_signing_key", "platform_meta"]
        let holding = try await database.snapshot { connection in
            var holding: [String] = []
            for table in tables {
                let query = PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))")
                if try await connection.run(query).first?.decode(Bool.self) == true { holding.append(table) }
            }
            return holding
        }
        guard holding.isEmpty else {
            throw ImportError(
                "the database is not empty (\(holding.joined(separator: ", ")) hold rows): "
                    + "a data directory is copied only into an empty database"
            )
        }
    }

    /// Copies one table a page at a time; returns how many rows.
    static func copy(_ copy: TableCopy, from file: URL, on connection: PostgresConnection) async throws -> Int {
        let source = try SQLiteRows(file: file)
        defer { try? source.close() }
        guard try source.hasTable(copy.source) else { return 0 }
        let plan = try copy.plan(
            target: try await TableCopy.columns(of: copy.target, on: connection),
            source: try source.columns(of: copy.source)
        )
        let columns = plan.map(\.0.name).joined(separator: ", ")
        var count = 0
        var offset = 0
        // 100 rows of up to 17 columns a statement: far below PostgreSQL's 65,535 parameters.
        while true {
            let page = try source.page(of: copy.source, columns: plan.map(\.1), offset: offset, limit: 100)
            if !page.rows.isEmpty {
                var bindings = PostgresBindings()
                var tuples: [String] = []
                for row in page.rows {
                    var placeholders: [String] = []
                    for (value, (column, _)) in zip(row, plan) {
                        try copy.bind(value, as: column, into: &bindings)
                        placeholders.append("$\(bindings.count)")
                    }
                    tuples.append("(" + placeholders.joined(separator: ", ") + ")")
                }
                let sql = "INSERT INTO \(copy.target) (\(columns)) VALUES " + tuples.joined(separator: ", ")
                try await connection.run(PostgresQuery(unsafeSQL: sql, binds: bindings))
                count += page.rows.count
            }
            guard let next = page.next else { return count }
            offset = next
        }
    }
}
