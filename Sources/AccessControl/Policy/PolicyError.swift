import SealedSupport

/// A policy that does not parse, or breaks the IAM policy grammar.
///
/// Carries where the problem is twice over: the ``position`` in the JSON text and a JSON ``path`` such as
/// `$.Statement[1].Condition.StringEquals`. Errors compare on their ``code`` alone.
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem the policy has; an open set of codes.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case malformedJSON
            case duplicateElement
            case unknownElement
            case missingElement
            case conflictingElements
            case prohibitedElement
            case invalidType
            case invalidValue
            case unsupportedVersion
            case unknownConditionOperator
            case invalidConditionValue
            case invalidPrincipal
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The text is not JSON.
        public static let malformedJSON = Code(.malformedJSON)
        /// An object names the same key twice.
        public static let duplicateElement = Code(.duplicateElement)
        /// An element the grammar does not know, such as `Statements` or `Efect`.
        public static let unknownElement = Code(.unknownElement)
        /// A required element is missing: `Statement`, `Effect`, `Action`/`NotAction`, `Resource`, `Principal`.
        public static let missingElement = Code(.missingElement)
        /// Two elements that exclude each other, such as `Action` and `NotAction`.
        public static let conflictingElements = Code(.conflictingElements)
        /// An element this kind of policy may not have: `Principal` in an identity policy, `Resource` in a trust policy.
        public static let prohibitedElement = Code(.prohibitedElement)
        /// An element of the wrong JSON type.
        public static let invalidType = Code(.invalidType)
        /// An element's value is not allowed: an `Effect` other than `Allow`/`Deny`, an action without a service.
        public static let invalidValue = Code(.invalidValue)
        /// A `Version` other than `2012-10-17` or `2008-10-17`.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A condition operator the grammar does not know.
        public static let unknownConditionOperator = Code(.unknownConditionOperator)
        /// A condition value its operator cannot use: a bad date, IP range, number or boolean.
        public static let invalidConditionValue = Code(.invalidConditionValue)
        /// A principal that is neither `*`, an account id, nor an ARN without wildcards.
        public static let invalidPrincipal = Code(.invalidPrincipal)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// A human-readable explanation.
    public let reason: String
    /// Where the problem starts in the JSON text.
    public let position: SourcePosition
    /// The JSON path of the offending element, from `$`.
    public let path: String

    public init(code: Code, reason: String, position: SourcePosition, path: String) {
        self.code = code
        self.reason = reason
        self.position = position
        self.path = path
    }

    public var description: String { "\(code) at \(position) (\(path)): \(reason)" }
}

extension PolicyError: CodedError {}
