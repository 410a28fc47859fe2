public import AWSGovernance
public import Foundation
public import KMS

/// The platform's changes to a real AWS account, through the `KMS` module's clients: domain keys, reader roles,
/// grants in their trust policies, and producer policies, with the names and documents of
/// ``AWSGovernance/AWSNames`` and ``AWSGovernance/AWSPolicies``. Every operation is idempotent — running it again
/// changes nothing — so a step interrupted by a crash is finished by running it again.
///
/// Trust policies are edited read-modify-write, and read back after each write: IAM has no conditional update, so a
/// concurrent writer's change would otherwise be lost; when the read-back lacks the change (another writer won), the
/// edit is made again on what is there now, up to ``maximumAttempts`` times. Statements the platform did not write are
/// never dropped.
public actor AWSAccountGovernor {
    let kms: KMSClient
    let iam: IAMClient
    /// The account the keys and roles live in.
    public let account: String
    /// How many times a trust-policy edit is tried against concurrent writers.
    public let maximumAttempts = 5

    public init(kms: KMSClient, iam: IAMClient, account: String) {
        self.kms = kms
        self.iam = iam
        self.account = account
    }

    // MARK: - Domain keys

    /// The ARN of `domain`'s key: the key its alias names, or a new symmetric key (tagged, with the platform's key
    /// policy) and its alias.
    public func domainKey(_ domain: String) async throws -> String {
        let alias = AWSNames.keyAlias(domain: domain)
        if let existing = try await kms.describeKeyIfPresent(alias) { return existing }
        let created = try await kms.createKey(
            CreateKeyRequest(
                policy: AWSPolicies.keyPolicy(account: account),
                description: "Sealed Events domain \(domain)",
                keyUsage: .encryptDecrypt,
                keySpec: .symmetricDefault,
                tags: [Tag(key: AWSNames.domainTag, value: domain)]
            )
        )
        guard let arn = created.keyMetadata?.arn else {
            throw AWSGovernanceError("KMS created a key for \(domain) without answering its ARN")
        }
        try await kms.createAlias(CreateAliasRequest(aliasName: alias, targetKeyId: arn))
        return arn
    }

    /// Adopts an existing key for `domain`: it must be a symmetric encryption key, enabled, and the domain's alias
    /// must name no other key, and the key carry no other domain's tag; it is tagged, given the platform's key policy
    /// and the domain's alias.
    ///
    /// - Returns: The key's ARN (`keyId` may be a key id, an ARN or an alias).
    /// - Throws: ``AWSGovernanceError`` naming what is wrong with the key.
    @discardableResult
    public func adoptKey(_ keyId: String, domain: String) async throws -> String {
        let described: DescribeKeyResponse
        do {
            described = try await kms.describeKey(DescribeKeyRequest(keyId: keyId))
        } catch let error as KMSError where error.code == .notFoundException || error.code == .invalidArnException {
            throw AWSGovernanceError("KMS has no key \(keyId) in account \(account)")
        } catch let error as KMSError where error.code == .accessDeniedException {
            // The platform's policy lets it read only keys tagged sealed:domain: the tag is the key owner's consent.
            throw AWSGovernanceError(
                "the platform may not read \(keyId): tag it \(AWSNames.domainTag)=\(domain) to hand it to the platform"
            )
        }
        guard let metadata = described.keyMetadata, let keyARN = metadata.arn else {
            throw AWSGovernanceError("KMS did not describe \(keyId)")
        }
        // SYMMETRIC_DEFAULT keys have no usage but ENCRYPT_DECRYPT; moto leaves KeyUsage out when it was not asked for.
        guard metadata.keySpec == .symmetricDefault, (metadata.keyUsage ?? .encryptDecrypt) == .encryptDecrypt else {
            throw AWSGovernanceError("\(keyARN) is not a symmetric encryption key")
        }
        guard metadata.enabled == true else { throw AWSGovernanceError("\(keyARN) is not enabled") }
        let tags = try await kms.listResourceTags(ListResourceTagsRequest(keyId: keyARN)).tags ?? []
        if let other = tags.first(where: { $0.tagKey == AWSNames.domainTag && $0.tagValue != domain }) {
            throw AWSGovernanceError("\(keyARN) is already the key of the domain \(other.tagValue)")
        }
        let alias = AWSNames.keyAlias(domain: domain)
        let aliased = try await kms.describeKeyIfPresent(alias)
        if let aliased, aliased != keyARN {
            throw AWSGovernanceError("\(alias) already names another key, \(aliased)")
        }
        try await kms.tagResource(TagResourceRequest(keyId: keyARN, tags: [Tag(key: AWSNames.domainTag, value: domain)]))
        try await kms.putKeyPolicy(PutKeyPolicyRequest(keyId: keyARN, policy: AWSPolicies.keyPolicy(account: account)))
        if aliased == nil {
            try await kms.createAlias(CreateAliasRequest(aliasName: alias, targetKeyId: keyARN))
        }
        return keyARN
    }

    // MARK: - Reader roles and grants

    /// The ARN of `eventType`'s reader role, created if missing (path `/sealed/`, tagged, nobody trusted), with its
    /// permission policy (re)written.
    public func readerRole(eventType: String, keyARN: String) async throws -> String {
        let name = AWSNames.readerRole(eventType: eventType)
        // Created first, looked up when it exists: a permission scoped to the path /sealed/ cannot be checked for a
        // role that does not exist yet (IAM would refuse the lookup, not answer NoSuchEntity).
        let role: IAMRole
        do {
            role = try await iam.createRole(
                name: name,
                path: AWSNames.path,
                trustPolicy: TrustPolicy().document,
                description: "Reads Sealed Events of type \(eventType)",
                tags: [AWSNames.eventTypeTag: eventType]
            )
        } catch let error as IAMError where error == IAMError(code: .entityAlreadyExists) {
            role = try await iam.getRole(name: name)
            guard role.path == AWSNames.path else {
                throw AWSGovernanceError("a role named \(name) exists outside \(AWSNames.path): it is not the platform's")
            }
        }
        try await iam.putRolePolicy(
            roleName: name,
            policyName: AWSNames.readerPolicyName,
            document: AWSPolicies.readerPolicy(keyARN: keyARN, eventType: eventType)
        )
        return role.arn
    }

    /// Lets `principal` assume `eventType`'s reader role until `end`.
    public func grant(eventType: String, to principal: String, until end: Date?) async throws {
        let end = TrustPolicy.wholeSeconds(end)
        try await editTrust(eventType: eventType) { $0.grant(principal, until: end) } check: {
            $0.grants[principal] == .some(end)
        }
    }

    /// Ends `principal`'s grant on `eventType`'s reader role.
    public func revoke(eventType: String, from principal: String) async throws {
        try await editTrust(eventType: eventType) { $0.revoke(principal) } check: {
            $0.grants[principal] == nil
        }
    }

    private func editTrust(
        eventType: String,
        _ change: (inout TrustPolicy) -> Void,
        check: (TrustPolicy) -> Bool
    ) async throws {
        let name = AWSNames.readerRole(eventType: eventType)
        for _ in 0..<maximumAttempts {
            var policy = try await trustPolicy(of: name)
            change(&policy)
            try await iam.updateAssumeRolePolicy(roleName: name, document: policy.document)
            if check(try await trustPolicy(of: name)) { return }
        }
        throw AWSGovernanceError(
            "the trust policy of \(name) kept changing under the platform's edit (\(maximumAttempts) attempts)"
        )
    }

    /// A reader role's trust policy as it is now.
    public func trustPolicy(of roleName: String) async throws -> TrustPolicy {
        let role = try await iam.getRole(name: roleName)
        do {
            return try TrustPolicy(parsing: role.assumeRolePolicyDocument ?? "{}")
        } catch {
            throw AWSGovernanceError("the trust policy of \(roleName) is not the platform's to edit: \(error.message)")
        }
    }

    // MARK: - Producers

    /// Writes `domain`'s producer policy for its event types (a new default version when it changed; the oldest
    /// version deleted when IAM's five are used) and attaches it to each of `principals` (user or role ARNs).
    ///
    /// - Returns: The policy's ARN.
    @discardableResult
    public func producerPolicy(domain: String, keyARN: String, eventTypes: [String], principals: [String]) async throws
        -> String
    {
        let name = AWSNames.producerPolicy(domain: domain)
        let arn = "arn:aws:iam::\(account):policy\(AWSNames.path)\(name)"
        let document = AWSPolicies.producerPolicy(keyARN: keyARN, eventTypes: eventTypes)
        do {
            let current = try await iam.getPolicy(arn: arn)
            let version = try await iam.getPolicyVersion(arn: arn, versionId: current.defaultVersionId)
            if !AWSDrift.sameDocument(version.document ?? "", document) {
                let versions = try await iam.listPolicyVersions(arn: arn)
                if versions.count >= 5, let oldest = versions.filter({ !$0.isDefaultVersion }).min(by: Self.older) {
                    try await iam.deletePolicyVersion(arn: arn, versionId: oldest.versionId)
                }
                _ = try await iam.createPolicyVersion(arn: arn, document: document, setAsDefault: true)
            }
        } catch let error as IAMError where error == IAMError(code: .noSuchEntity) {
            _ = try await iam.createPolicy(name: name, path: AWSNames.path, document: document)
        }
        for principal in principals {
            guard let target = Self.principalName(principal) else {
                throw AWSGovernanceError("\(principal) is not a user or role ARN: only those can hold a producer policy")
            }
            try await iam.attachPolicy(arn, to: target)
        }
        return arn
    }

    static func older(_ a: IAMPolicyVersion, _ b: IAMPolicyVersion) -> Bool {
        (a.createDate ?? .distantPast, a.versionId) < (b.createDate ?? .distantPast, b.versionId)
    }

    /// `user/NAME` or `role/NAME` of an IAM ARN (the last path segment).
    static func principalName(_ arn: String) -> IAMPrincipalName? {
        let fields = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6, fields[2] == "iam" else { return nil }
        let resource = fields[5]
        let name = resource.split(separator: "/").last.map(String.init) ?? ""
        if resource.hasPrefix("user/") { return .user(name) }
        if resource.hasPrefix("role/") { return .role(name) }
        return nil
    }
}

/// The AWS account cannot be brought to the platform's state as asked.
public struct AWSGovernanceError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension KMSClient {
    /// The ARN of the key `keyId` names, or `nil` when KMS finds none.
    func describeKeyIfPresent(_ keyId: String) async throws -> String? {
        do {
            return try await describeKey(DescribeKeyRequest(keyId: keyId)).keyMetadata?.arn
        } catch let error as KMSError where error.code == .notFoundException {
            return nil
        }
    }
}
