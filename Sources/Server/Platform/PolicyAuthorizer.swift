public import AccessControl
import Foundation
public import KeyService

/// The key service's ``KeyService/Authorizer`` on the policy engine: a key's key policy together with the caller's
/// identity policies (a user's own and its teams', a role session's role's), evaluated as AWS KMS does.
///
/// Operations on no key (`kms:CreateKey`, `kms:ListKeys`, …) are decided by identity policies alone. Parsed key
/// policies are cached by their text, identity policies per principal by the ``AccessControl/IdentityService``.
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
                return .explicitDeny(reason: "the key policy does not parse")
            }
            decision = PolicyEvaluator.evaluate(
                evaluation,
                resourcePolicy: keyPolicy,
                identityPolicies: identityPolicies
            )
        } else {
            decision = PolicyEvaluator.evaluate(evaluation, identityPolicies: identityPolicies)
        }
        switch decision {
        case .allow: return .allow
        case .explicitDeny(let statement): return .explicitDeny(reason: "\(statement)")
        case .implicitDeny: return .implicitDeny
        }
    }
}
