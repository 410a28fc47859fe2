import Foundation

/// The outcome of evaluating policies for one request: checks return a verdict, they do not throw.
public enum Decision: Sendable, Hashable, CustomStringConvertible {
    /// A statement allows the request and none denies it.
    case allow(Statement)
    /// A statement denies the request.
    case explicitDeny(Statement)
    /// No statement allows the request.
    case implicitDeny

    /// Whether the request may proceed.
    public var isAllowed: Bool {
        if case .allow = self { return true }
        return false
    }

    /// The deciding statement, if any.
    public var statement: Statement? {
        switch self {
        case .allow(let s), .explicitDeny(let s): s
        case .implicitDeny: nil
        }
    }

    public var description: String {
        switch self {
        case .allow(let s): "allowed by \(s)"
        case .explicitDeny(let s): "explicitly denied by \(s)"
        case .implicitDeny: "implicitly denied: no statement allows the request"
        }
    }
}

/// Evaluates requests against policies as AWS does (IAM User Guide, "Policy evaluation logic"; KMS Developer Guide,
/// "Key policies" and "Troubleshooting key access"):
///
/// - An explicit `Deny` anywhere wins, then an `Allow`, and otherwise the request is implicitly denied.
/// - With a resource policy (a KMS key policy, a role's trust policy) the resource policy must allow the call:
///   either naming the caller (its ARN, its role for a role session, a service, or `*`) — enough on its own within
///   one account — or naming the caller's account root (`arn:aws:iam::ACCOUNT:root` or the bare id), which delegates
///   to the account's identity policies, which then must allow too. Across accounts, the identity policies must allow
///   even when the caller is named directly.
///
/// Statements are checked cheapest first (action, resource, principal, then conditions), a deny stops the scan, and
/// identity policies are not read when the resource policy allows nothing (the request is then implicitly denied even
/// if an identity policy would deny it explicitly).
public enum PolicyEvaluator {
    /// Evaluates identity policies alone: for actions on no resource policy (`kms:CreateKey`, `kms:ListKeys`, …).
    public static func evaluate(_ request: EvaluationRequest, identityPolicies: [PolicyDocument]) -> Decision {
        evaluateIdentity(request, action: request.action, identityPolicies)
    }

    /// Evaluates a request on a resource that has a resource policy: a KMS key and its key policy, or (through
    /// ``evaluateAssumeRole(caller:roleArn:trustPolicy:identityPolicies:context:)``) a role and its trust policy.
    ///
    /// - Parameters:
    ///   - request: The request; its resource's account (the fifth ARN field) decides whether the call is
    ///     cross-account.
    ///   - resourcePolicy: The key policy or trust policy.
    ///   - identityPolicies: The caller's identity policies (its own, its teams', or its role's permission policies).
    public static func evaluate(
        _ request: EvaluationRequest,
        resourcePolicy: PolicyDocument,
        identityPolicies: [PolicyDocument]
    ) -> Decision {
        let action = request.action
        var direct: Statement?
        var delegated: Statement?
        let statements = resourcePolicy.statements
        for i in statements.indices {
            guard statements[i].matchesActionAndResource(action: action, resource: request.resource) else { continue }
            let match = statements[i].principalMatch(request.principal)
            guard match != .none, statements[i].conditionsHold(for: request) else { continue }
            switch statements[i].effect {
            case .deny:
                return .explicitDeny(statements[i])
            case .allow:
                if match == .direct {
                    if direct == nil { direct = statements[i] }
                } else if delegated == nil {
                    delegated = statements[i]
                }
            }
        }
        // Nothing in the resource policy allows: denied whatever the identity policies say, so skip them.
        if direct == nil, delegated == nil { return .implicitDeny }
        let identity = evaluateIdentity(request, action: action, identityPolicies)
        if case .explicitDeny = identity { return identity }
        if let direct {
            if isSameAccount(request) { return .allow(direct) }
            return identity.isAllowed ? .allow(direct) : .implicitDeny
        }
        if delegated != nil, identity.isAllowed { return identity }
        return .implicitDeny
    }

    /// Evaluates `sts:AssumeRole` of a role: its trust policy must name the caller's exact ARN (or, for a role
    /// session, its role) or delegate to the caller's account, whose identity policies must then allow
    /// `sts:AssumeRole` on the role.
    public static func evaluateAssumeRole(
        caller: CallerIdentity,
        roleArn: String,
        trustPolicy: PolicyDocument,
        identityPolicies: [PolicyDocument],
        context: RequestContext = RequestContext()
    ) -> Decision {
        let request = EvaluationRequest(
            principal: caller,
            action: "sts:AssumeRole",
            resource: roleArn,
            context: context
        )
        return evaluate(request, resourcePolicy: trustPolicy, identityPolicies: identityPolicies)
    }

    private static func evaluateIdentity(
        _ request: EvaluationRequest,
        action: String,
        _ policies: [PolicyDocument]
    ) -> Decision {
        var allow: Statement?
        for p in policies.indices {
            let statements = policies[p].statements
            for i in statements.indices {
                // An identity policy has no principal; a resource policy passed here is matched against the caller.
                guard statements[i].matchesActionAndResource(action: action, resource: request.resource),
                    statements[i].principalMatch(request.principal) != .none,
                    statements[i].conditionsHold(for: request)
                else { continue }
                switch statements[i].effect {
                case .deny: return .explicitDeny(statements[i])
                case .allow: if allow == nil { allow = statements[i] }
                }
            }
        }
        return allow.map(Decision.allow) ?? .implicitDeny
    }

    /// Whether the resource ARN's account (its fifth field) is the caller's; `*` and account-less ARNs count as same.
    private static func isSameAccount(_ request: EvaluationRequest) -> Bool {
        let utf8 = request.resource.utf8
        var colons = 0
        var start = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: ":") {
                colons += 1
                if colons == 4 {
                    start = utf8.index(after: index)
                } else if colons == 5 {
                    let account = utf8[start..<index]
                    return account.isEmpty || account.elementsEqual(request.principal.account.utf8)
                }
            }
            index = utf8.index(after: index)
        }
        return true
    }
}
