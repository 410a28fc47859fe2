public import AccessControl
import Foundation
public import KeyService

/// The key service's ``KeyService/Authorizer`` on the policy engine: a key's key policy together with the caller's
/// identity policies (a user's own and its teams', a role session's role's), evaluated as AWS KMS does.
///
/// Operations on no key (`kms:CreateKey`, `kms:ListKeys`, …) are decided by identity policies alone. Parsed key
/// policies are cached by their text, identity policies per principal by the ``AccessControl/IdentityService``.
///
/// Key policies are parsed with the IAM grammar (as resource policies) before they are stored, so a stored policy
/// always parses. A key whose stored policy does not (stored before that check, or by an older grammar) is denied
/// everything except `kms:GetKeyPolicy` and `kms:PutKeyPolicy`, which its account's identity policies then decide
/// as if the key policy delegated to the account (AWS's default key policy): the administrator can read and repair
/// it. AWS has no such path; without it a typo would make the key, and every event sealed under it, unusable.
public struct PolicyAuthorizer: Authorizer {
    public let identities: IdentityService
    let keyPolicies = PolicyCache(capacity: 16_384)

    public init(identities: IdentityService) { self.identities = identities }

    public func authorize(_ request: AuthorizationRequest) async -> Verdict {
        let caller = CallerIdentity(arn: request.principal, account: request.context.callerAccount)
        let context = AccessControl.RequestContext(
            encryptionContext: request.context.encryptionContext,
            sourceIP: request.context.sourceIP,
            currentTime: request.context.currentTime,
            callerAccount: request.context.callerAccount
        )
        let evaluation = EvaluationRequest(
            principal: caller,
            action: request.action,
            resource: request.resource,
            context: context
        )
        let identityPolicies = identities.identityPolicies(of: request.principal)
        let decision: Decision
        if let text = request.context.keyPolicy {
            guard let keyPolicy = try? keyPolicies.policy(for: text, kind: .resource) else {
                guard Self.repairActions.contains(request.action) else {
                    return .explicitDeny(reason: "the key policy does not parse")
                }
                return Self.verdict(PolicyEvaluator.evaluate(evaluation, identityPolicies: identityPolicies))
            }
            decision = PolicyEvaluator.evaluate(
                evaluation,
                resourcePolicy: keyPolicy,
                identityPolicies: identityPolicies
            )
        } else {
            decision = PolicyEvaluator.evaluate(evaluation, identityPolicies: identityPolicies)
        }
        return Self.verdict(decision)
    }

    /// Parses the policy as a key policy; a ``AccessControl/PolicyError`` becomes its reason and position.
    public func problem(inKeyPolicy policy: String) -> String? {
        do {
            _ = try keyPolicies.policy(for: policy, kind: .resource)
            return nil
        } catch {
            return "\(error.reason) at \(error.position) (\(error.path))"
        }
    }

    /// What identity policies alone decide on a key whose stored policy does not parse: reading and replacing it.
    static let repairActions: Set<String> = ["kms:GetKeyPolicy", "kms:PutKeyPolicy"]

    static func verdict(_ decision: Decision) -> Verdict {
        switch decision {
        case .allow: .allow
        case .explicitDeny(let statement): .explicitDeny(reason: "\(statement)")
        case .implicitDeny: .implicitDeny
        }
    }
}
