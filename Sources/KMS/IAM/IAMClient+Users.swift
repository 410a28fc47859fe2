public import SigV4

/// IAM users, their inline policies and access keys: what `sealed demo --aws` needs to cast its people in an account
/// (and to remove them afterwards). The platform itself never creates users.
extension IAMClient {
    /// `CreateUser`: a user; its ARN.
    ///
    /// - Throws: ``IAMError`` `EntityAlreadyExists`, `LimitExceeded`; ``ClientError``.
    public func createUser(name: String, path: String = "/", tags: [String: String] = [:]) async throws -> String {
        try await call("CreateUser", [("UserName", name), ("Path", path)] + Self.tagParameters(tags)) { root in
            try Self.required(root.path("CreateUserResult", "User"), "Arn")
        }
    }

    /// `DeleteUser`: deletes a user without access keys, inline or attached policies.
    ///
    /// - Throws: ``IAMError`` `NoSuchEntity`, `DeleteConflict`; ``ClientError``.
    public func deleteUser(name: String) async throws {
        try await perform("DeleteUser", [("UserName", name)])
    }

    /// `PutUserPolicy`: creates or replaces an inline policy of a user.
    public func putUserPolicy(userName: String, policyName: String, document: String) async throws {
        try await perform(
            "PutUserPolicy",
            [("UserName", userName), ("PolicyName", policyName), ("PolicyDocument", document)]
        )
    }

    /// `ListUserPolicies`: the names of a user's inline policies, all pages.
    public func listUserPolicies(userName: String) async throws -> [String] {
        try await pages("ListUserPolicies", [("UserName", userName)]) { result in
            try Self.members(result.child("PolicyNames")).map(\.text)
        }
    }

    /// `DeleteUserPolicy`: deletes an inline policy of a user.
    public func deleteUserPolicy(userName: String, policyName: String) async throws {
        try await perform("DeleteUserPolicy", [("UserName", userName), ("PolicyName", policyName)])
    }

    /// `CreateAccessKey`: a new access key of a user. The secret is in this answer only.
    public func createAccessKey(userName: String) async throws -> Credentials {
        try await call("CreateAccessKey", [("UserName", userName)]) { root in
            let key = root.path("CreateAccessKeyResult", "AccessKey")
            return Credentials(
                accessKeyId: try Self.required(key, "AccessKeyId"),
                secretAccessKey: try Self.required(key, "SecretAccessKey")
            )
        }
    }

    /// `ListAccessKeys`: the ids of a user's access keys, all pages.
    public func listAccessKeys(userName: String) async throws -> [String] {
        try await pages("ListAccessKeys", [("UserName", userName)]) { result in
            try Self.members(result.child("AccessKeyMetadata")).map { try Self.required($0, "AccessKeyId") }
        }
    }

    /// `DeleteAccessKey`: deletes an access key of a user.
    public func deleteAccessKey(userName: String, accessKeyId: String) async throws {
        try await perform("DeleteAccessKey", [("UserName", userName), ("AccessKeyId", accessKeyId)])
    }
}
