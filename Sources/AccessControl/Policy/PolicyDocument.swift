/// Which kind of policy a document is; the grammar differs slightly between them.
public enum PolicyKind: Sendable, Hashable {
    /// Attached to a user, team or role: no `Principal`; `Resource` required.
    case identity
    /// Attached to a resource, such as a KMS key policy: `Principal` (or `NotPrincipal`) and `Resource` required.
    case resource
    /// A role's trust policy: `Principal` (or `NotPrincipal`) required; `Resource` prohibited (the role is implied).
    case trust
}

/// Whether a statement allows or denies.
public enum Effect: String, Sendable, Hashable {
    case allow = "Allow"
    case deny = "Deny"
}

/// An IAM policy document, parsed and compiled: wildcard patterns, dates, IP ranges and condition keys are resolved
/// once here, so evaluation compares values only.
public struct PolicyDocument: Sendable, Hashable {
    /// The version the policy declares (`2012-10-17` or `2008-10-17`; `2008-10-17` when absent, as in IAM).
    public let version: String
    /// The policy's `Id`, if any.
    public let id: String?
    /// The statements, in document order.
    public let statements: [Statement]
    /// The grammar the document was checked against.
    public let kind: PolicyKind

    /// Parses and checks a policy.
    ///
    /// - Parameters:
    ///   - text: The policy's JSON text.
    ///   - kind: The kind of policy, which decides whether `Principal` and `Resource` are required or prohibited.
    /// - Throws: ``PolicyError`` with the line, column and JSON path of the first problem.
    public init(parsing text: String, kind: PolicyKind = .identity) throws(PolicyError) {
        let root = try JSONNode.parse(text)
        self = try PolicyGrammar(kind: kind).document(root)
    }

    package init(version: String, id: String?, statements: [Statement], kind: PolicyKind) {
        self.version = version
        self.id = id
        self.statements = statements
        self.kind = kind
    }
}

/// One statement of a policy, compiled.
///
/// A final class of immutable values, so that scanning statements and returning the deciding one in a ``Decision``
/// costs one reference count, not a copy of every compiled field.
public final class Statement: Sendable, Hashable, CustomStringConvertible {
    /// How the statement names actions.
    package enum ActionClause: Sendable, Hashable {
        case action([WildcardPattern])
        case notAction([WildcardPattern])
    }

    /// How the statement names resources; `nil` in trust policies.
    package enum ResourceClause: Sendable, Hashable {
        case resource([WildcardPattern])
        case notResource([WildcardPattern])
    }

    /// How the statement names principals; `nil` in identity policies.
    public enum PrincipalClause: Sendable, Hashable {
        case principal(PrincipalSet)
        case notPrincipal(PrincipalSet)
    }

    /// The statement's `Sid`, if any.
    public let sid: String?
    /// Its index in the policy's `Statement` list (0 for a single statement object).
    public let index: Int
    public let effect: Effect
    public let principal: PrincipalClause?
    package let actions: ActionClause
    package let resources: ResourceClause?
    package let conditions: [Condition]
    /// Where the statement starts in the policy text.
    public let position: SourcePosition

    package init(
        sid: String?,
        index: Int,
        effect: Effect,
        principal: PrincipalClause?,
        actions: ActionClause,
        resources: ResourceClause?,
        conditions: [Condition],
        position: SourcePosition
    ) {
        self.sid = sid
        self.index = index
        self.effect = effect
        self.principal = principal
        self.actions = actions
        self.resources = resources
        self.conditions = conditions
        self.position = position
    }

    public static func == (lhs: Statement, rhs: Statement) -> Bool {
        lhs === rhs
            || (lhs.sid == rhs.sid && lhs.index == rhs.index && lhs.effect == rhs.effect
                && lhs.position == rhs.position && lhs.principal == rhs.principal && lhs.actions == rhs.actions
                && lhs.resources == rhs.resources && lhs.conditions == rhs.conditions)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(sid)
        hasher.combine(index)
        hasher.combine(position)
    }

    public var description: String {
        "\(effect.rawValue) statement \(sid.map { "\"\($0)\"" } ?? "#\(index)")"
    }

    /// Whether the statement's action and resource apply to a request (actions compare ASCII-case-insensitively).
    package func matchesActionAndResource(action: String, resource: String) -> Bool {
        switch actions {
        case .action(let patterns):
            guard patterns.contains(where: { $0.matches(action) }) else { return false }
        case .notAction(let patterns):
            guard !patterns.contains(where: { $0.matches(action) }) else { return false }
        }
        switch resources {
        case nil:
            return true
        case .resource(let patterns):
            return patterns.contains { $0.matches(resource) }
        case .notResource(let patterns):
            return !patterns.contains { $0.matches(resource) }
        }
    }

    /// How the statement's principal element names the caller; `.direct` when there is none (identity policies).
    package func principalMatch(_ caller: CallerIdentity) -> PrincipalSet.Match {
        switch principal {
        case nil:
            return .direct
        case .principal(let set):
            return set.match(caller)
        case .notPrincipal(let set):
            return set.match(caller) == .none ? .direct : .none
        }
    }

    /// Whether every condition holds (conditions are ANDed).
    package func conditionsHold(for request: EvaluationRequest) -> Bool {
        conditions.allSatisfy { $0.holds(for: request) }
    }
}
