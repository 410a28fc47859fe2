import SealedSupport

/// Why a subject operation was refused, beyond the access-control refusals (``AccessControl/AccessControlError``:
/// `AccessDenied`, `ValidationError`, `NoSuchEntity`, `InvalidState`) it shares with the catalog.
///
/// A struct with an opaque ``Code``, as the other modules' errors. The ``message`` names the domain and the
/// pseudonym, never the subject id.
public struct SubjectError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// The subject was erased in the domain and its fence stands: its key is not created again until the owning
        /// team lifts the fence.
        public static let subjectErased: Code = "SubjectErasedException"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension SubjectError: CodedError {}
