import Foundation
import GRDB
import SealedSupport

/// Why an audit store (the log, ``LogAuditStore``, or the SQLite file it migrates from) refused to do what was asked.
///
/// A struct with an opaque ``Code`` rather than an open enum, so new reasons are not breaking changes; two errors are
/// equal when their codes are. The ``message`` never carries record contents or secrets.
public struct AuditStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable identifier.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// SQLite could not open or read the audit database.
        public static let databaseUnavailable = Code(rawValue: "AuditDatabaseUnavailable")
        /// A record (or digest) could not be committed; it is not in the chain, and the operation must fail.
        public static let writeFailed = Code(rawValue: "AuditWriteFailed")
        /// The audit database was written by another format version of this program.
        public static let incompatibleVersion = Code(rawValue: "AuditIncompatibleVersion")
        /// A digest does not follow the latest stored digest.
        public static let digestConflict = Code(rawValue: "AuditDigestConflict")
        /// A row does not hold what the store wrote (a stored hash of the wrong size, a record under another number).
        public static let corrupt = Code(rawValue: "AuditCorrupt")
        /// A file of the audit log could not be opened, read or listed.
        public static let logUnavailable = Code(rawValue: "AuditLogUnavailable")
        /// The log ends in a damaged frame at or before the head of a signed digest: a record that was acknowledged
        /// is damaged, so the store refuses to open (nothing was changed) rather than cut it off.
        public static let signedRecordDamaged = Code(rawValue: "AuditSignedRecordDamaged")
        /// `audit.sqlite` was not migrated to the log: it does not verify, or the log written from it did not verify
        /// the same. Nothing was changed.
        public static let migrationRefused = Code(rawValue: "AuditMigrationRefused")
    }

    public var code: Code
    /// A sentence for people; never contains record contents or secrets.
    public var message: String
    /// Whether the database could not be reached at all (the connection failed or broke, the server is shutting
    /// down): nothing was written and the operation may succeed once the database is back. Not part of equality.
    public var isUnreachable: Bool

    public init(_ code: Code, _ message: String, isUnreachable: Bool = false) {
        self.code = code
        self.message = message
        self.isUnreachable = isUnreachable
    }

    public var description: String { "\(code): \(message)" }

    static func unavailable(_ url: URL, _ error: any Error) -> AuditStoreError {
        if let error = error as? AuditStoreError { return error }
        return AuditStoreError(
            .databaseUnavailable,
            "SQLite could not use \(url.path): \(reason(error))."
        )
    }

    static func writeFailed(_ url: URL, _ error: any Error) -> AuditStoreError {
        if let error = error as? AuditStoreError { return error }
        return AuditStoreError(
            .writeFailed,
            "The audit record could not be written to \(url.path): \(reason(error))."
        )
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(type(of: error))"
    }
}

extension AuditStoreError: CodedError {}

extension AuditStoreError: DependencyUnavailable {
    package var isUnavailability: Bool { isUnreachable }
}
