/// Decides whether a principal may perform a DynamoDB action on a table.
///
/// The table service asks before every operation, once the request is well formed and before it looks at the table:
/// a refusal is an `AccessDeniedException`, whether the table exists or not. The platform implements it with the
/// IAM identity policies of the caller (`Composition.TablePolicyAuthorizer`).
public protocol TableAuthorizer: Sendable {
    /// Whether `principal` may perform `action` (`dynamodb:GetItem`, …) on `resource` (a table ARN, or `*` for
    /// `dynamodb:ListTables`).
    func isAllowed(_ principal: String, _ action: String, on resource: String) async -> Bool
}
