public import AuditTrail
import Foundation

extension DataDirectory {
    /// `DIR/audit.sqlite`: the audit trail, in its own database so its writes never wait on the key store's.
    public static let auditDatabaseFileName = "audit.sqlite"
    /// `DIR/audit-signing.key` (0600): the audit signing key, sealed under the root key.
    public static let auditSigningKeyFileName = "audit-signing.key"
    /// `DIR/audit-public-key.pem` (0644): the public key that verifies digests and exports.
    public static let auditPublicKeyFileName = "audit-public-key.pem"

    /// The audit trail of this directory: its store, created on first use, and its signing key, created on first
    /// start; the public key is (re)written next to them as PEM for `sealed audit verify`.
    ///
    /// - Parameters:
    ///   - commitInterval: see ``SQLiteAuditStore/commitInterval``.
    ///   - onCommit: the store's observer of its group commits (see
    ///     ``SQLiteAuditStore/init(at:busyTimeout:commitInterval:onCommit:)``).
    public func openAuditTrail(
        commitInterval: Duration = SQLiteAuditStore.defaultCommitInterval,
        onCommit: (@Sendable (SQLiteAuditStore.Commit) -> Void)? = nil
    ) throws -> (store: SQLiteAuditStore, signingKey: AuditSigningKey) {
        let key = try AuditSigningKey.loadOrCreate(
            at: url.appendingPathComponent(Self.auditSigningKeyFileName),
            rootKey: rootKey
        )
        let publicKeyURL = url.appendingPathComponent(Self.auditPublicKeyFileName)
        if (try? String(contentsOf: publicKeyURL, encoding: .utf8)) != key.publicKeyPEM {
            try Data(key.publicKeyPEM.utf8).write(to: publicKeyURL, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: publicKeyURL.path)
        }
        let store = try SQLiteAuditStore(
            at: url.appendingPathComponent(Self.auditDatabaseFileName),
            commitInterval: commitInterval,
            onCommit: onCommit
        )
        return (store, key)
    }
}
