public import AsyncHTTPClient
public import Foundation
public import Logging
import SealedSupport

extension IAMError: RetryableServiceError {}

/// A client of AWS IAM (or a compatible service, such as moto) over the query protocol: a form-encoded `POST` with
/// `Action=…&Version=2010-05-08`, signed with SigV4 for the service `iam`, answered in XML.
///
/// IAM is a global service: its endpoint is `https://iam.amazonaws.com` (`https://iam.cn-north-1.amazonaws.com.cn`
/// in China) and requests are signed for `us-east-1` (`cn-north-1`), whatever region the rest of the configuration
/// names. Policy documents are sent and returned as JSON text (IAM percent-encodes them in its answers; the client
/// decodes them). Lists are read to the end, page by page. Retries, timeouts and limits work as for ``KMSClient``;
/// the service's errors are ``IAMError``s.
///
/// The operations are those a platform needs to govern roles and policies: roles and their trust policies, inline
/// role policies, customer managed policies and their versions, and attaching them to users and roles.
public struct IAMClient: AWSServiceClient {
    let transport: Transport

    public static func endpoint(in configuration: AWSConfiguration) -> URL { configuration.iamEndpoint }

    /// The endpoint requests go to.
    public var endpoint: URL { transport.endpoint }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: The configuration's region: it picks the partition (the signing region is IAM's, see above).
    ///   - credentialProvider: Where each request's credentials come from.
    ///   - endpoint: The service URL; IAM's global endpoint when `nil`.
    ///   - httpClient: The HTTP client to send with; the process-wide shared one when `nil`.
    ///   - options: Retries, timeout and response limits.
    ///   - logger: Where retries are logged.
    public init(
        region: String,
        credentialProvider: any CredentialProvider,
        endpoint: URL? = nil,
        httpClient: HTTPClient? = nil,
        options: ClientOptions = ClientOptions(),
        logger: Logger? = nil
    ) throws(ClientError) {
        transport = try Transport(
            httpClient: httpClient ?? sharedHTTPClient,
            endpoint: endpoint ?? AWSConfiguration.iamEndpoint(region: region),
            region: AWSConfiguration.iamSigningRegion(region: region),
            service: "iam",
            credentialProvider: credentialProvider,
            options: options,
            logger: logger ?? .noop
        )
    }


    // MARK: - Roles

    /// `CreateRole`: a role with its trust policy.
    ///
    /// - Throws: ``IAMError`` `EntityAlreadyExists`, `MalformedPolicyDocument`, `LimitExceeded`; ``ClientError``.
    public func createRole(
        name: String,
        path: String = "/",
        trustPolicy: String,
        description: String? = nil,
        maxSessionDuration: Int? = nil,
        tags: [String: String] = [:]
    ) async throws -> IAMRole {
        var parameters = [("RoleName", name), ("Path", path), ("AssumeRolePolicyDocument", trustPolicy)]
        if let description { parameters.append(("Description", description)) }
        if let maxSessionDuration { parameters.append(("MaxSessionDuration", String(maxSessionDuration))) }
        parameters += Self.tagParameters(tags)
        return try await call("CreateRole", parameters) { try Self.role($0.path("CreateRoleResult", "Role")) }
    }

    /// `GetRole`: a role with its trust policy and tags.
    ///
    /// - Throws: ``IAMError`` `NoSuchEntity`; ``ClientError``.
    public func getRole(name: String) async throws -> IAMRole {
        try await call("GetRole", [("RoleName", name)]) { try Self.role($0.path("GetRoleResult", "Role")) }
    }

    /// `ListRoles`: every role under a path prefix (such as `/sealed/`), all pages.
    public func listRoles(pathPrefix: String = "/") async throws -> [IAMRole] {
        try await pages("ListRoles", [("PathPrefix", pathPrefix)]) { result in
            try Self.members(result.child("Roles")).map { try Self.role($0) }
        }
    }

    /// `UpdateAssumeRolePolicy`: replaces a role's trust policy.
    ///
    /// - Throws: ``IAMError`` `NoSuchEntity`, `MalformedPolicyDocument`; ``ClientError``.
    public func updateAssumeRolePolicy(roleName: String, document: String) async throws {
        try await perform("UpdateAssumeRolePolicy", [("RoleName", roleName), ("PolicyDocument", document)])
    }

    /// `DeleteRole`: deletes a role without inline or attached policies.
    ///
    /// - Throws: ``IAMError`` `NoSuchEntity`, `DeleteConflict`; ``ClientError``.
    public func deleteRole(name: String) async throws {
        try await perform("DeleteRole", [("RoleName", name)])
    }

    /// `TagRole`: adds or replaces tags of a role.
    public func tagRole(name: String, tags: [String: String]) async throws {
        try await perform("TagRole", [("RoleName", name)] + Self.tagParameters(tags))
    }

    // MARK: - Inline role policies

    /// `PutRolePolicy`: creates or replaces an inline policy of a role.
    public func putRolePolicy(roleName: String, policyName: String, document: String) async throws {
        try await perform(
            "PutRolePolicy",
            [("RoleName", roleName), ("PolicyName", policyName), ("PolicyDocument", document)]
        )
    }

    /// `GetRolePolicy`: an inline policy's document (JSON text).
    ///
    /// - Throws: ``IAMError`` `NoSuchEntity`; ``ClientError``.
    public func getRolePolicy(roleName: String, policyName: String) async throws -> String {
        try await call("GetRolePolicy", [("RoleName", roleName), ("PolicyName", policyName)]) { root in
            try Self.document(root.path("GetRolePolicyResult", "PolicyDocument"))
        }
    }

    /// `ListRolePolicies`: the names of a role's inline policies, all pages.
    public func listRolePolicies(roleName: String) async throws -> [String] {
        try await pages("ListRolePolicies", [("RoleName", roleName)]) { result in
            try Self.members(result.child("PolicyNames")).map(\.text)
        }
    }

    /// `DeleteRolePolicy`: deletes an inline policy of a role.
    public func deleteRolePolicy(roleName: String, policyName: String) async throws {
        try await perform("DeleteRolePolicy", [("RoleName", roleName), ("PolicyName", policyName)])
    }

    // MARK: - Managed policies

    /// `CreatePolicy`: a customer managed policy (its first version, `v1`, is the default).
    public func createPolicy(
        name: String,
        path: String = "/",
        document: String,
        description: String? = nil
    ) async throws -> IAMManagedPolicy {
        var parameters = [("PolicyName", name), ("Path", path), ("PolicyDocument", document)]
        if let description { parameters.append(("Description", description)) }
        return try await call("CreatePolicy", parameters) { try Self.policy($0.path("CreatePolicyResult", "Policy")) }
    }

    /// `GetPolicy`: a managed policy's description (not its document: see ``getPolicyVersion(arn:versionId:)``).
    public func getPolicy(arn: String) async throws -> IAMManagedPolicy {
        try await call("GetPolicy", [("PolicyArn", arn)]) { try Self.policy($0.path("GetPolicyResult", "Policy")) }
    }

    /// `GetPolicyVersion`: one version of a managed policy, with its document.
    public func getPolicyVersion(arn: String, versionId: String) async throws -> IAMPolicyVersion {
        try await call("GetPolicyVersion", [("PolicyArn", arn), ("VersionId", versionId)]) { root in
            try Self.version(root.path("GetPolicyVersionResult", "PolicyVersion"))
        }
    }

    /// `CreatePolicyVersion`: a new version of a managed policy, made the default when `setAsDefault`.
    ///
    /// - Throws: ``IAMError`` `LimitExceeded` when the policy already has five versions; ``ClientError``.
    public func createPolicyVersion(arn: String, document: String, setAsDefault: Bool) async throws -> IAMPolicyVersion {
        try await call(
            "CreatePolicyVersion",
            [("PolicyArn", arn), ("PolicyDocument", document), ("SetAsDefault", setAsDefault ? "true" : "false")]
        ) { root in
            try Self.version(root.path("CreatePolicyVersionResult", "PolicyVersion"))
        }
    }

    /// `ListPolicyVersions`: every version of a managed policy (without documents), all pages.
    public func listPolicyVersions(arn: String) async throws -> [IAMPolicyVersion] {
        try await pages("ListPolicyVersions", [("PolicyArn", arn)]) { result in
            try Self.members(result.child("Versions")).map { try Self.version($0) }
        }
    }

    /// `DeletePolicyVersion`: deletes a version that is not the default.
    public func deletePolicyVersion(arn: String, versionId: String) async throws {
        try await perform("DeletePolicyVersion", [("PolicyArn", arn), ("VersionId", versionId)])
    }

    /// `DeletePolicy`: deletes a managed policy that is attached to nothing and has only its default version.
    public func deletePolicy(arn: String) async throws {
        try await perform("DeletePolicy", [("PolicyArn", arn)])
    }

    // MARK: - Attachments

    /// `AttachUserPolicy` / `AttachRolePolicy`: attaches a managed policy to a user or a role.
    public func attachPolicy(_ arn: String, to principal: IAMPrincipalName) async throws {
        try await perform("Attach\(principal.kind)Policy", [(principal.parameter, principal.name), ("PolicyArn", arn)])
    }

    /// `DetachUserPolicy` / `DetachRolePolicy`: detaches a managed policy from a user or a role.
    public func detachPolicy(_ arn: String, from principal: IAMPrincipalName) async throws {
        try await perform("Detach\(principal.kind)Policy", [(principal.parameter, principal.name), ("PolicyArn", arn)])
    }

    /// `ListAttachedUserPolicies` / `ListAttachedRolePolicies`: the managed policies attached to a user or role.
    public func attachedPolicies(of principal: IAMPrincipalName) async throws -> [IAMAttachedPolicy] {
        try await pages("ListAttached\(principal.kind)Policies", [(principal.parameter, principal.name)]) { result in
            try Self.members(result.child("AttachedPolicies")).map { member in
                IAMAttachedPolicy(
                    policyName: try Self.required(member, "PolicyName"),
                    policyArn: try Self.required(member, "PolicyArn")
                )
            }
        }
    }
}

/// A user or role, by name, as the attach operations name them.
public struct IAMPrincipalName: Sendable, Hashable {
    /// `User` or `Role`: the operation names' middle.
    let kind: String
    public let name: String

    public static func user(_ name: String) -> IAMPrincipalName { IAMPrincipalName(kind: "User", name: name) }
    public static func role(_ name: String) -> IAMPrincipalName { IAMPrincipalName(kind: "Role", name: name) }

    /// `UserName` or `RoleName`.
    var parameter: String { "\(kind)Name" }
}
