internal import Foundation
public import WireShapes

extension KeyService {
    /// `CreateKey`: a symmetric `ENCRYPT_DECRYPT` key (`SYMMETRIC_DEFAULT`, origin `AWS_KMS`) with its first
    /// 256-bit key material.
    ///
    /// - Throws: `UnsupportedOperationException` for other key specs, usages, origins, custom key stores and
    ///   multi-Region keys; `MalformedPolicyDocumentException`, `TagException`, `ValidationException` for bad input.
    public func createKey(_ request: CreateKeyRequest, caller: Caller) async throws -> CreateKeyResponse {
        try Self.validateDescription(request.description)
        if let usage = request.keyUsage, usage != .encryptDecrypt {
            throw Self.unsupported("KeyUsage \(usage)")
        }
        for spec in [request.keySpec, request.customerMasterKeySpec].compactMap({ $0 }) where spec != .symmetricDefault
        {
            throw Self.unsupported("KeySpec \(spec)")
        }
        if let origin = request.origin, origin != .awsKMS { throw Self.unsupported("Origin \(origin)") }
        if request.customKeyStoreId != nil || request.xksKeyId != nil { throw Self.unsupported("Custom key stores") }
        if request.multiRegion == true { throw Self.unsupported("Multi-Region keys") }
        if let policy = request.policy { try validatePolicy(policy) }
        let tags = try Self.merging(request.tags ?? [], into: [])

        let now = self.now()
        try await authorize(caller, action: "kms:CreateKey", resource: "*", key: nil, at: now)
        let id = UUID.random().lowercasedString
        if let policy = request.policy, request.bypassPolicyLockoutSafetyCheck != true {
            try await requireNoLockout(caller, keyARN: configuration.keyARN(id), policy: policy, at: now)
        }
        let record = KeyRecord(
            id: id,
            arn: configuration.keyARN(id),
            keyDescription: request.description ?? "",
            creationDate: now,
            state: .enabled,
            tags: tags,
            policy: request.policy ?? configuration.defaultKeyPolicy,
            materials: [try newMaterial(keyID: id, version: 1, origin: .creation, at: now)],
            revision: 1
        )
        try await store.commit(KeyStoreBatch([.putKey(record, expectedRevision: nil)]))
        return CreateKeyResponse(keyMetadata: metadata(of: record))
    }

    /// `DescribeKey`, in any key state; accepts every identifier form.
    public func describeKey(_ request: DescribeKeyRequest, caller: Caller) async throws -> DescribeKeyResponse {
        let now = self.now()
        let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .describeKey), at: now)
        try await authorize(caller, "kms:DescribeKey", on: key, at: now)
        return DescribeKeyResponse(keyMetadata: metadata(of: key))
    }

    /// `ListKeys`: keys ordered by id, `Limit` 1–1000 (default 100); the marker is the last key id of the page.
    public func listKeys(_ request: ListKeysRequest, caller: Caller) async throws -> ListKeysResponse {
        let limit = try Self.limit(request.limit, maximum: 1000, fallback: 100)
        let now = self.now()
        try await authorize(caller, action: "kms:ListKeys", resource: "*", key: nil, at: now)
        let page = try await store.keys(after: request.marker, limit: limit + 1)
            .filter { !Self.isDestroyed($0, at: now) }
        let shown = page.prefix(limit)
        let truncated = page.count > limit
        return ListKeysResponse(
            keys: shown.map { KeyListEntry(keyId: $0.id, keyArn: $0.arn) },
            nextMarker: truncated ? shown.last?.id : nil,
            truncated: truncated
        )
    }

    /// `EnableKey`. - Throws: `KMSInvalidStateException` when the key is pending deletion.
    public func enableKey(_ request: EnableKeyRequest, caller: Caller) async throws -> EmptyResponse {
        try await changeKey(request.keyId, operation: .enableKey, action: "kms:EnableKey", caller: caller) { key, _ in
            try requireNotPendingDeletion(key)
            key.state = .enabled
        }
        return EmptyResponse()
    }

    /// `DisableKey`. - Throws: `KMSInvalidStateException` when the key is pending deletion.
    public func disableKey(_ request: DisableKeyRequest, caller: Caller) async throws -> EmptyResponse {
        try await changeKey(request.keyId, operation: .disableKey, action: "kms:DisableKey", caller: caller) { key, _ in
            try requireNotPendingDeletion(key)
            key.state = .disabled
        }
        return EmptyResponse()
    }

    /// `UpdateKeyDescription`. - Throws: `KMSInvalidStateException` when the key is pending deletion.
    public func updateKeyDescription(
        _ request: UpdateKeyDescriptionRequest,
        caller: Caller
    ) async throws
        -> EmptyResponse
    {
        try Self.validateDescription(request.description)
        try await changeKey(
            request.keyId,
            operation: .updateKeyDescription,
            action: "kms:UpdateKeyDescription",
            caller: caller
        ) { key, _ in
            try requireNotPendingDeletion(key)
            key.keyDescription = request.description
        }
        return EmptyResponse()
    }

    /// `ScheduleKeyDeletion`: the key becomes `PendingDeletion` for 7–30 days (default 30), unusable; when the window
    /// passes it is gone (`NotFoundException`) and ``runMaintenance(now:)`` destroys its record and material.
    ///
    /// - Throws: `KMSInvalidStateException` when already pending deletion; `ValidationException` for a window
    ///   outside 7–30.
    public func scheduleKeyDeletion(
        _ request: ScheduleKeyDeletionRequest,
        caller: Caller
    ) async throws
        -> ScheduleKeyDeletionResponse
    {
        let days = request.pendingWindowInDays ?? 30
        guard days >= 7 else {
            throw KMSError.validation(
                value: "\(days)",
                member: "pendingWindowInDays",
                constraint: "have value greater than or equal to 7"
            )
        }
        guard days <= 30 else {
            throw KMSError.validation(
                value: "\(days)",
                member: "pendingWindowInDays",
                constraint: "have value less than or equal to 30"
            )
        }
        let key = try await changeKey(
            request.keyId,
            operation: .scheduleKeyDeletion,
            action: "kms:ScheduleKeyDeletion",
            caller: caller
        ) { key, now in
            try requireNotPendingDeletion(key)
            key.state = .pendingDeletion
            key.pendingWindowInDays = days
            key.deletionDate = now.addingTimeInterval(TimeInterval(days) * 86_400)
        }
        return ScheduleKeyDeletionResponse(
            keyId: key.arn,
            deletionDate: key.deletionDate,
            keyState: key.state,
            pendingWindowInDays: days
        )
    }

    /// `CancelKeyDeletion`: a key pending deletion returns to `Disabled`, as on AWS.
    ///
    /// - Throws: `KMSInvalidStateException` when the key is not pending deletion.
    public func cancelKeyDeletion(_ request: CancelKeyDeletionRequest, caller: Caller) async throws -> KeyIdResponse {
        let key = try await changeKey(
            request.keyId,
            operation: .cancelKeyDeletion,
            action: "kms:CancelKeyDeletion",
            caller: caller
        ) { key, _ in
            guard key.state == .pendingDeletion else { throw KMSError.keyNotPendingDeletion(arn: key.arn) }
            key.state = .disabled
            key.deletionDate = nil
            key.pendingWindowInDays = nil
        }
        return KeyIdResponse(keyId: key.arn)
    }

    /// `GetKeyPolicy`; only the policy name `default` exists.
    public func getKeyPolicy(_ request: GetKeyPolicyRequest, caller: Caller) async throws -> GetKeyPolicyResponse {
        try Self.validatePolicyName(request.policyName)
        let now = self.now()
        let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .getKeyPolicy), at: now)
        try await authorize(caller, "kms:GetKeyPolicy", on: key, at: now)
        return GetKeyPolicyResponse(policy: key.policy, policyName: "default")
    }

    /// `PutKeyPolicy`: replaces the key policy.
    ///
    /// As on AWS, the new policy must let the caller call `PutKeyPolicy` on the key again (together with the
    /// caller's identity policies), unless `BypassPolicyLockoutSafetyCheck` is true.
    ///
    /// - Throws: `MalformedPolicyDocumentException` when it does not parse as a key policy (the message says where)
    ///   or would lock the caller out; `KMSInvalidStateException` when the key is pending deletion.
    public func putKeyPolicy(_ request: PutKeyPolicyRequest, caller: Caller) async throws -> EmptyResponse {
        try Self.validatePolicyName(request.policyName)
        try validatePolicy(request.policy)
        try await committing {
            let now = self.now()
            let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .putKeyPolicy), at: now)
            try await authorize(caller, "kms:PutKeyPolicy", on: key, at: now)
            try requireNotPendingDeletion(key)
            if request.bypassPolicyLockoutSafetyCheck != true {
                try await requireNoLockout(caller, keyARN: key.arn, policy: request.policy, at: now)
            }
            guard key.policy != request.policy else { return (KeyStoreBatch(), ()) }
            var changed = key
            changed.policy = request.policy
            return (KeyStoreBatch([Self.put(changed)]), ())
        }
        return EmptyResponse()
    }

    /// `TagResource`: adds tags, replacing the value of a key already tagged.
    ///
    /// - Throws: `TagException` for `aws:` keys or more than 50 tags; `KMSInvalidStateException` when pending
    ///   deletion.
    public func tagResource(_ request: TagResourceRequest, caller: Caller) async throws -> EmptyResponse {
        _ = try Self.merging(request.tags, into: [])
        try await changeKey(request.keyId, operation: .tagResource, action: "kms:TagResource", caller: caller) {
            key,
            _ in
            try requireNotPendingDeletion(key)
            key.tags = try Self.merging(request.tags, into: key.tags)
        }
        return EmptyResponse()
    }

    /// `UntagResource`: removes tags by key; absent keys are ignored.
    public func untagResource(_ request: UntagResourceRequest, caller: Caller) async throws -> EmptyResponse {
        try await changeKey(request.keyId, operation: .untagResource, action: "kms:UntagResource", caller: caller) {
            key,
            _ in
            try requireNotPendingDeletion(key)
            let removed = Set(request.tagKeys)
            key.tags.removeAll { removed.contains($0.tagKey) }
        }
        return EmptyResponse()
    }

    /// `ListResourceTags`: tags ordered by key, `Limit` 1–50 (default 50).
    public func listResourceTags(
        _ request: ListResourceTagsRequest,
        caller: Caller
    ) async throws
        -> ListResourceTagsResponse
    {
        let limit = try Self.limit(request.limit, maximum: 50, fallback: 50)
        let now = self.now()
        let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .listResourceTags), at: now)
        try await authorize(caller, "kms:ListResourceTags", on: key, at: now)
        let sorted = key.tags.sorted { $0.tagKey < $1.tagKey }
        let page = try Self.page(sorted, marker: request.marker, limit: limit)
        return ListResourceTagsResponse(tags: page.items, nextMarker: page.nextMarker, truncated: page.truncated)
    }

    // MARK: - Helpers

    /// Resolves a key (id or ARN only, per `operation`), authorizes `action` on it, applies `change` and commits,
    /// retrying on conflicts. Returns the key as stored.
    @discardableResult
    func changeKey(
        _ identifier: String,
        operation: KMSOperation,
        action: String,
        caller: Caller,
        change: (inout KeyRecord, Date) throws -> Void
    ) async throws -> KeyRecord {
        try await committing {
            let now = self.now()
            let key = try await resolve(identifier, accepting: IdentifierForms.accepted(by: operation), at: now)
            try await authorize(caller, action, on: key, at: now)
            var changed = key
            try change(&changed, now)
            if changed == key { return (KeyStoreBatch(), key) }
            let put = Self.put(changed)
            changed.revision += 1
            return (KeyStoreBatch([put]), changed)
        }
    }

    static func unsupported(_ what: String) -> KMSError {
        KMSError(code: .unsupportedOperationException, message: "\(what) is not supported by this key service.")
    }

    static func validateDescription(_ description: String?) throws {
        guard let description, description.count > 8192 else { return }
        throw KMSError.validation(
            value: "…",
            member: "description",
            constraint: "have length less than or equal to 8192"
        )
    }

    static func validatePolicyName(_ name: String?) throws {
        guard let name, name != "default" else { return }
        throw KMSError(code: .notFoundException, message: "Policy '\(name)' does not exist. Only 'default' exists.")
    }

    /// A key policy must be a JSON object of at most 32 KiB that the authorizer can evaluate (for the policy
    /// engine: one that parses with the IAM grammar).
    func validatePolicy(_ policy: String) throws {
        guard !policy.isEmpty else {
            throw KMSError.validation(value: "", member: "policy", constraint: "have length greater than or equal to 1")
        }
        guard policy.utf8.count <= 32_768 else {
            throw KMSError(code: .limitExceededException, message: "The key policy exceeds 32 KiB.")
        }
        if let problem = authorizer.problem(inKeyPolicy: policy) {
            throw KMSError(code: .malformedPolicyDocumentException, message: "The key policy is not valid: \(problem).")
        }
        guard (try? JSONSerialization.jsonObject(with: Data(policy.utf8))) is [String: Any] else {
            throw KMSError(
                code: .malformedPolicyDocumentException,
                message: "The key policy is not a valid JSON document."
            )
        }
    }

    /// AWS's lockout safety check: `policy` as the key policy of `keyARN` must allow `caller` to call
    /// `kms:PutKeyPolicy` on it, decided by the authorizer as every request is (identity policies included).
    func requireNoLockout(_ caller: Caller, keyARN: String, policy: String, at now: Date) async throws {
        let request = AuthorizationRequest(
            principal: caller.principal,
            action: "kms:PutKeyPolicy",
            resource: keyARN,
            context: AuthorizationContext(
                sourceIP: caller.sourceIP,
                currentTime: now,
                callerAccount: caller.account,
                keyPolicy: policy
            )
        )
        guard await authorizer.authorize(request) == .allow else {
            throw KMSError(
                code: .malformedPolicyDocumentException,
                message: "The new key policy will not allow you to update the key policy in the future."
            )
        }
    }

    /// Merges `tags` into `existing` (a later value replaces an earlier one), enforcing AWS's tag rules.
    static func merging(_ tags: [Tag], into existing: [Tag]) throws -> [Tag] {
        var merged = existing
        for tag in tags {
            guard (1...128).contains(tag.tagKey.count) else {
                throw KMSError.validation(
                    value: tag.tagKey,
                    member: "tags.member.tagKey",
                    constraint: "have length between 1 and 128"
                )
            }
            guard tag.tagValue.count <= 256 else {
                throw KMSError.validation(
                    value: tag.tagValue,
                    member: "tags.member.tagValue",
                    constraint: "have length less than or equal to 256"
                )
            }
            guard !tag.tagKey.lowercased().hasPrefix("aws:") else {
                throw KMSError(code: .tagException, message: "Tags beginning with aws: are reserved.")
            }
            if let index = merged.firstIndex(where: { $0.tagKey == tag.tagKey }) {
                merged[index] = tag
            } else {
                merged.append(tag)
            }
        }
        guard merged.count <= 50 else {
            throw KMSError(code: .tagException, message: "A KMS key can have at most 50 tags.")
        }
        return merged
    }

    /// A page of `items` from the position the marker names (a decimal offset issued by an earlier page).
    static func page<T>(
        _ items: [T],
        marker: String?,
        limit: Int
    ) throws -> (items: [T], nextMarker: String?, truncated: Bool) {
        var start = 0
        if let marker {
            guard let offset = Int(marker), offset >= 0, offset <= items.count else {
                throw KMSError(code: .invalidMarkerException, message: "The marker is not valid.")
            }
            start = offset
        }
        let end = min(items.count, start + limit)
        let truncated = end < items.count
        return (Array(items[start..<end]), truncated ? String(end) : nil, truncated)
    }
}
