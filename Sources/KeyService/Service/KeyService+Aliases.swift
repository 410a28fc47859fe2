internal import Foundation
public import WireShapes

extension KeyService {
    /// Checks an alias name against AWS's rules.
    ///
    /// - 1 to 256 characters of `^[a-zA-Z0-9:/_-]+$` (botocore's `AliasNameType`), else `ValidationException`;
    /// - the prefix `alias/`, else `ValidationException` (AWS's message);
    /// - a name after the prefix without `:` (the pattern allows it, alias names do not), else
    ///   `InvalidAliasNameException`;
    /// - not under the reserved `alias/aws/`, else `NotAuthorizedException`, as AWS answers.
    public static func validateAliasName(_ name: String) throws {
        guard (1...256).contains(name.utf8.count) else {
            throw KMSError.validation(
                value: name,
                member: "aliasName",
                constraint: name.isEmpty
                    ? "have length greater than or equal to 1" : "have length less than or equal to 256"
            )
        }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || ":/_-".unicodeScalars.contains(scalar))
        }
        guard allowed else {
            throw KMSError.validation(
                value: name,
                member: "aliasName",
                constraint: "satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
            )
        }
        guard name.hasPrefix("alias/") else {
            throw KMSError.validation("Alias must start with the prefix \"alias/\".")
        }
        guard name.count > "alias/".count, !name.contains(":") else {
            throw KMSError(code: .invalidAliasNameException, message: "\(name) is not a valid alias name.")
        }
        guard !name.hasPrefix("alias/aws/") else {
            throw KMSError(
                code: KMSError.notAuthorizedCode,
                message: "The alias prefix alias/aws/ is reserved for AWS managed keys."
            )
        }
    }

    /// `CreateAlias`: a new alias for a key given by id or ARN.
    ///
    /// - Throws: `AlreadyExistsException` when the alias exists; `KMSInvalidStateException` when the key is pending
    ///   deletion; `ValidationException` when the target is an alias; the alias-name errors of
    ///   ``validateAliasName(_:)``.
    public func createAlias(_ request: CreateAliasRequest, caller: Caller) async throws -> EmptyResponse {
        try Self.validateAliasName(request.aliasName)
        try await committing {
            let now = self.now()
            let target = try await resolveAliasTarget(request.targetKeyId, operation: .createAlias, at: now)
            let aliasARN = configuration.aliasARN(request.aliasName)
            try await authorize(caller, action: "kms:CreateAlias", resource: aliasARN, key: nil, at: now)
            try await authorize(caller, "kms:CreateAlias", on: target, at: now)
            try requireNotPendingDeletion(target)
            if try await store.alias(named: request.aliasName) != nil {
                throw KMSError(
                    code: .alreadyExistsException,
                    message: "An alias with the name \(aliasARN) already exists"
                )
            }
            let alias = AliasRecord(
                name: request.aliasName,
                targetKeyID: target.id,
                creationDate: now,
                lastUpdatedDate: now,
                revision: 1
            )
            return (KeyStoreBatch([.putAlias(alias, expectedRevision: nil)]), ())
        }
        return EmptyResponse()
    }

    /// `UpdateAlias`: points an existing alias at another key (id or ARN).
    ///
    /// - Throws: `NotFoundException` when the alias does not exist; `KMSInvalidStateException` when the new target
    ///   is pending deletion.
    public func updateAlias(_ request: UpdateAliasRequest, caller: Caller) async throws -> EmptyResponse {
        try Self.validateAliasName(request.aliasName)
        try await committing {
            let now = self.now()
            let aliasARN = configuration.aliasARN(request.aliasName)
            guard let alias = try await store.alias(named: request.aliasName) else {
                throw KMSError.aliasNotFound(arn: aliasARN)
            }
            let target = try await resolveAliasTarget(request.targetKeyId, operation: .updateAlias, at: now)
            try await authorize(caller, action: "kms:UpdateAlias", resource: aliasARN, key: nil, at: now)
            if let current = try await store.key(id: alias.targetKeyID) {
                try await authorize(caller, "kms:UpdateAlias", on: current, at: now)
            }
            try await authorize(caller, "kms:UpdateAlias", on: target, at: now)
            try requireNotPendingDeletion(target)
            var updated = alias
            updated.targetKeyID = target.id
            updated.lastUpdatedDate = now
            updated.revision += 1
            return (KeyStoreBatch([.putAlias(updated, expectedRevision: alias.revision)]), ())
        }
        return EmptyResponse()
    }

    /// `DeleteAlias`. - Throws: `NotFoundException` when the alias does not exist.
    public func deleteAlias(_ request: DeleteAliasRequest, caller: Caller) async throws -> EmptyResponse {
        try Self.validateAliasName(request.aliasName)
        try await committing {
            let now = self.now()
            let aliasARN = configuration.aliasARN(request.aliasName)
            guard let alias = try await store.alias(named: request.aliasName) else {
                throw KMSError.aliasNotFound(arn: aliasARN)
            }
            try await authorize(caller, action: "kms:DeleteAlias", resource: aliasARN, key: nil, at: now)
            if let target = try await store.key(id: alias.targetKeyID) {
                try await authorize(caller, "kms:DeleteAlias", on: target, at: now)
            }
            return (KeyStoreBatch([.deleteAlias(name: alias.name, expectedRevision: alias.revision)]), ())
        }
        return EmptyResponse()
    }

    /// `ListAliases`: aliases ordered by name, only those of `KeyId` (id or ARN) when given; `Limit` 1–100
    /// (default 50); the marker is the last alias name of the page.
    public func listAliases(_ request: ListAliasesRequest, caller: Caller) async throws -> ListAliasesResponse {
        let limit = try Self.limit(request.limit, maximum: 100, fallback: 50)
        let now = self.now()
        var targetKeyID: String?
        if let keyId = request.keyId {
            let key = try await resolve(keyId, accepting: IdentifierForms.accepted(by: .listAliases), at: now)
            targetKeyID = key.id
        }
        try await authorize(caller, action: "kms:ListAliases", resource: "*", key: nil, at: now)
        let page = try await store.aliases(targeting: targetKeyID, after: request.marker, limit: limit + 1)
        let shown = page.prefix(limit)
        let truncated = page.count > limit
        return ListAliasesResponse(
            aliases: shown.map {
                AliasListEntry(
                    aliasName: $0.name,
                    aliasArn: configuration.aliasARN($0.name),
                    targetKeyId: $0.targetKeyID,
                    creationDate: $0.creationDate,
                    lastUpdatedDate: $0.lastUpdatedDate
                )
            },
            nextMarker: truncated ? shown.last?.name : nil,
            truncated: truncated
        )
    }

    /// The key an alias is to point at: a key id or key ARN; an alias there is a `ValidationException`, as on AWS.
    func resolveAliasTarget(_ identifier: String, operation: KMSOperation, at now: Date) async throws -> KeyRecord {
        if let parsed = KeyIdentifier(identifier, in: configuration),
            parsed.form == .aliasName || parsed.form == .aliasARN
        {
            throw KMSError.validation("Aliases must refer to keys. Not aliases")
        }
        return try await resolve(
            identifier,
            accepting: IdentifierForms.accepted(by: operation),
            member: "targetKeyId",
            at: now
        )
    }
}
