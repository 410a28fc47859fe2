public import AuditTrail
public import Foundation
public import Logging

extension DataDirectory {
    /// `DIR/audit/`: the audit trail as an append-only log (``LogAuditStore``).
    public static let auditLogDirectoryName = "audit"
    /// `DIR/audit.sqlite`: the audit trail of earlier versions, in SQLite; moved to the log at open, then renamed
    /// `audit.sqlite.migrated`.
    public static let auditDatabaseFileName = "audit.sqlite"
    /// `DIR/audit-signing.key` (0600): the audit signing key, sealed under the root key.
    public static let auditSigningKeyFileName = "audit-signing.key"
    /// `DIR/audit-public-key.pem` (0600): the public key that verifies digests and exports. A copy for convenience:
    /// whoever can write the directory can replace it, so verification pins the key held elsewhere (`--public-key`).
    public static let auditPublicKeyFileName = "audit-public-key.pem"

    /// `DIR/audit-head.json` (0600): the newest signed digest, kept outside `audit.sqlite` (see ``FileDigestAnchor``).
    public static let auditHeadFileName = "audit-head.json"

    /// Where the digest service keeps the newest digest outside the audit database.
    public var auditDigestAnchor: FileDigestAnchor {
        FileDigestAnchor(url: url.appendingPathComponent(Self.auditHeadFileName))
    }

    /// The audit trail of this directory: its log, created on first use (or moved from `audit.sqlite`, see
    /// ``AuditLogMigration``), and its signing key, created on first start; the public key is (re)written next to
    /// them as PEM for `sealed audit verify`.
    ///
    /// - Parameters:
    ///   - commitInterval: see ``LogAuditStore/commitInterval``.
    ///   - logger: where recovery and migration report.
    ///   - onCommit: the store's observer of its group commits (see
    ///     ``LogAuditStore/init(directory:rollSize:commitInterval:logger:onCommit:)``).
    /// - Throws: ``AuditStoreError`` `migrationRefused` when `audit.sqlite` does not verify (nothing changed),
    ///   `signedRecordDamaged` when the log ends in a damaged signed record; see ``LogAuditStore``.
    public func openAuditTrail(
        commitInterval: Duration = LogAuditStore.defaultCommitInterval,
        logger: Logger = Logger(label: "sealed.audit"),
        onCommit: (@Sendable (AuditCommit) -> Void)? = nil
    ) throws -> (store: LogAuditStore, signingKey: AuditSigningKey) {
        let key = try AuditSigningKey.loadOrCreate(
            at: url.appendingPathComponent(Self.auditSigningKeyFileName),
            rootKey: rootKey
        )
        let publicKeyURL = url.appendingPathComponent(Self.auditPublicKeyFileName)
        let publicKeyMode = try FileSystem.mode(of: publicKeyURL)
        if (try? String(contentsOf: publicKeyURL, encoding: .utf8)) != key.publicKeyPEM
            || publicKeyMode.map({ $0 & 0o077 != 0 }) == true
        {
            try FileSystem.replaceFile(publicKeyURL, contents: Data(key.publicKeyPEM.utf8), mode: 0o600)
        }
        let logURL = url.appendingPathComponent(Self.auditLogDirectoryName)
        try AuditLogMigration.migrateIfNeeded(
            from: url.appendingPathComponent(Self.auditDatabaseFileName),
            to: logURL,
            publicKey: key.publicKey,
            anchor: try auditDigestAnchor.load(),
            logger: logger
        )
        let store = try LogAuditStore(
            directory: logURL,
            commitInterval: commitInterval,
            logger: logger,
            onCommit: onCommit
        )
        return (store, key)
    }
}

/// The newest signed digest in a file of its own (`DIR/audit-head.json`, mode 0600, the digest's JSON form), written
/// durably (a new file synced, renamed over the old one) each time a digest is signed.
///
/// An attacker who removes digests from `audit.sqlite` and rewrites the records they covered must also find and
/// roll back this file; the digest service refuses to sign while the two disagree, and `sealed audit verify
/// --data-dir` checks the store against it. (Someone who controls the whole directory can still roll both back:
/// keep a copy of a recent digest, or its head hash, elsewhere.)
public struct FileDigestAnchor: DigestAnchor {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// - Throws: ``AuditTrail/AuditError`` `tamperedTrail` when the file holds no well-formed digest; `fileSystem`
    ///   when it cannot be read.
    public func load() throws -> SignedDigest? {
        guard FileSystem.exists(url) else { return nil }
        let data: Data
        do {
            data = try FileSystem.read(url)
        } catch {
            throw AuditError(.fileSystem, "Could not read \(url.path).")
        }
        do {
            return try SignedDigest(jsonValue: CanonicalJSON.parse(Array(data)))
        } catch {
            throw AuditError(.tamperedTrail, "\(url.path) does not hold a signed digest.")
        }
    }

    public func store(_ digest: SignedDigest) throws {
        do {
            try FileSystem.replaceFile(url, contents: Data(CanonicalJSON.encode(digest.jsonValue)), mode: 0o600)
        } catch {
            throw AuditError(.fileSystem, "Could not write \(url.path).")
        }
    }
}
