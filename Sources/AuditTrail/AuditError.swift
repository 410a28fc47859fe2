import SealedSupport

/// Why the audit trail refused to do what was asked.
///
/// A struct with an opaque ``Code`` rather than an open enum, so new reasons are not breaking changes; two errors are
/// equal when their codes are. The ``message`` never carries key material, the root key or plaintext.
public struct AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable identifier.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A record, a digest or an export is not well-formed JSON of the expected shape.
        public static let malformedRecord = Code(rawValue: "MalformedRecord")
        /// An export file is not one this program wrote (wrong format, missing members).
        public static let malformedExport = Code(rawValue: "MalformedExport")
        /// A public key (PEM) could not be read.
        public static let invalidPublicKey = Code(rawValue: "InvalidPublicKey")
        /// The sealed signing key does not open under the root key (wrong root key, or the file was altered).
        public static let unsealFailed = Code(rawValue: "UnsealFailed")
        /// The signing key file can be read or written by its group or by others.
        public static let keyFilePermissions = Code(rawValue: "KeyFilePermissions")
        /// A file could not be created, read or written.
        public static let fileSystem = Code(rawValue: "FileSystem")
        /// A digest does not follow the store's latest digest (another writer signed in between).
        public static let digestConflict = Code(rawValue: "DigestConflict")
        /// The stored chain or digests disagree with the newest digest signed (records rewritten, digests removed):
        /// the digest service refuses to sign what it finds.
        public static let tamperedTrail = Code(rawValue: "TamperedTrail")
    }

    public var code: Code
    /// A sentence for people; never contains secrets.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension AuditError: CodedError {}
