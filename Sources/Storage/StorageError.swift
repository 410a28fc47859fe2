import SealedSupport

/// Why a data directory, a database or a store refused to do what was asked.
///
/// A struct with an opaque ``Code`` rather than an open enum, so new reasons are not breaking changes; two errors
/// are equal when their codes are. The ``message`` says what happened and what was left untouched; it never carries
/// a root key, a secret access key or a session token.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as a stable identifier.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The database was written by another format version of this program, or is not one of ours.
        public static let incompatibleVersion = Code(rawValue: "IncompatibleVersion")
        /// The root key does not open the data directory's canary: it is not the key the directory was made with.
        public static let wrongRootKey = Code(rawValue: "WrongRootKey")
        /// The root key file can be read or written by its group or by others.
        public static let rootKeyPermissions = Code(rawValue: "RootKeyPermissions")
        /// The root key (file or `SEALED_ROOT_KEY`) is not 32 bytes in base64.
        public static let invalidRootKey = Code(rawValue: "InvalidRootKey")
        /// The data directory holds a database but no root key file, and `SEALED_ROOT_KEY` is not set.
        public static let missingRootKey = Code(rawValue: "MissingRootKey")
        /// The data directory was created for another account or region.
        public static let configurationMismatch = Code(rawValue: "ConfigurationMismatch")
        /// The path exists and is not a directory.
        public static let notADirectory = Code(rawValue: "NotADirectory")
        /// The database (SQLite, or the PostgreSQL server) could not be opened, reached, read or written.
        public static let databaseUnavailable = Code(rawValue: "DatabaseUnavailable")
        /// A file of the data directory could not be created, read or written.
        public static let fileSystem = Code(rawValue: "FileSystem")
        /// Another process holds the data directory's lock (``DirectoryLock``).
        public static let directoryInUse = Code(rawValue: "DirectoryInUse")
        /// A database URL (`postgres://…`) is malformed or asks for something this program does not support.
        public static let invalidDatabaseURL = Code(rawValue: "InvalidDatabaseURL")
        /// An empty PostgreSQL database and nowhere to write the administrator's credentials it would create.
        public static let missingAdministratorCredentials = Code(rawValue: "MissingAdministratorCredentials")
        /// A sealed secret did not open under the root key: the root key is wrong or the row was altered.
        public static let unsealFailed = Code(rawValue: "UnsealFailed")
    }

    public var code: Code
    /// A sentence for people; never contains secrets.
    public var message: String
    /// Whether the database could not be reached at all (the connection failed or broke, the server is shutting
    /// down): the request was not done and may succeed once the database is back. Not part of equality.
    public var isUnreachable: Bool

    public init(_ code: Code, _ message: String, isUnreachable: Bool = false) {
        self.code = code
        self.message = message
        self.isUnreachable = isUnreachable
    }

    public var description: String { "\(code): \(message)" }
}

extension StorageError: CodedError {}

extension StorageError: DependencyUnavailable {
    package var isUnavailability: Bool { isUnreachable }
}
