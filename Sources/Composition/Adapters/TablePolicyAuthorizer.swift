public import AccessControl
public import Tables

/// The table service's ``Tables/TableAuthorizer`` on the policy engine: the caller's identity policies (a user's own
/// and its teams', a role session's role's) decide `dynamodb:<Operation>` on the table's ARN, as AWS IAM does for a
/// table without a resource policy. The administrator's policy allows everything.
///
/// The caller's address (`aws:SourceIp`) is the one the edge bound as `CallerAddress`.
public struct TablePolicyAuthorizer: TableAuthorizer {
    public let identities: IdentityService

    public init(identities: IdentityService) { self.identities = identities }

    public func isAllowed(_ principal: String, _ action: String, on resource: String) async -> Bool {
        identities.isAllowed(principal, action, on: resource)
    }
}
