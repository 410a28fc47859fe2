import SealedSupport

/// A failure of a ``BranchKeyStore`` operation that is the keystore's own: a branch key that does not exist, an
/// item that is not a keystore record, a record of another KMS key, a conflicting write.
///
/// Errors of the services stay theirs: KMS refusing to unwrap (access denied, wrong encryption context) is a
/// ``KMSError``, a DynamoDB failure a ``DynamoDBError``, a network failure a ``ClientError``, so a caller tells a
/// destroyed branch key (``Code/notFound``) from one it may not use. Errors compare by ``code`` alone. The
/// ``reason`` names branch key ids, versions, attribute names and ARNs, never key material or the wrapped key
/// (`enc`).
public struct BranchKeyStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No such branch key, version or beacon key in the table: never created, or destroyed.
        public static let notFound = Code("notFound")
        /// An item that is not a valid keystore record of hierarchy version 1: a missing or ill-typed attribute, a
        /// bad `type`, a version that is not a UUID, a `tablename` attribute, or an unwrapped key that is not
        /// 32 bytes.
        public static let malformedItem = Code("malformedItem")
        /// The record names another KMS key than the keystore's (`kms-arn`), or KMS answered for another key.
        public static let kmsKeyMismatch = Code("kmsKeyMismatch")
        /// An argument the operation refuses: a KMS key that is not a key ARN, a custom branch key id without
        /// encryption context, an empty id, an invalid table name.
        public static let invalidArgument = Code("invalidArgument")
        /// The table exists but does not have the keystore's key schema (`branch-key-id` HASH, `type` RANGE).
        public static let tableMismatch = Code("tableMismatch")
        /// A condition of the write failed: the branch key already exists (`CreateKey`), or its active version
        /// changed or vanished since it was read (`VersionKey`); or the partition kept changing while it was
        /// destroyed.
        public static let conflict = Code("conflict")
        /// KMS or DynamoDB answered successfully with something the keystore cannot use (no ciphertext, a table
        /// description without an ARN).
        public static let invalidResponse = Code("invalidResponse")
    }

    /// The error's code; the only part that takes part in equality.
    public let code: Code
    /// A human-readable reason, free of key material.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }

    public static let notFound = BranchKeyStoreError(.notFound, "")
    public static let malformedItem = BranchKeyStoreError(.malformedItem, "")
    public static let kmsKeyMismatch = BranchKeyStoreError(.kmsKeyMismatch, "")
    public static let invalidArgument = BranchKeyStoreError(.invalidArgument, "")
    public static let tableMismatch = BranchKeyStoreError(.tableMismatch, "")
    public static let conflict = BranchKeyStoreError(.conflict, "")
    public static let invalidResponse = BranchKeyStoreError(.invalidResponse, "")
}

extension BranchKeyStoreError: CodedError {}
