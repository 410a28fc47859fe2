public import Foundation
import SealedSupport

extension Record {
    /// The members of a KMS request that may appear in an audit record, by their KMS (PascalCase) name.
    ///
    /// An allowlist, not a denylist: `Plaintext`, `CiphertextBlob`, `SourceCiphertextBlob`, `Message`,
    /// `EncryptedKeyMaterial`, `ImportToken`, `GrantTokens`, `Policy` bodies and any member added to KMS later stay
    /// out.
    public static let loggedKMSRequestMembers: Set<String> = [
        "KeyId", "EncryptionContext", "EncryptionAlgorithm", "KeySpec", "NumberOfBytes", "DataKeyPairSpec",
        "SourceKeyId", "SourceEncryptionContext", "SourceEncryptionAlgorithm",
        "DestinationKeyId", "DestinationEncryptionContext", "DestinationEncryptionAlgorithm",
        "AliasName", "TargetKeyId", "Description", "KeyUsage", "CustomerMasterKeySpec", "Origin", "MultiRegion",
        "PendingWindowInDays", "RotationPeriodInDays", "PolicyName", "BypassPolicyLockoutSafetyCheck",
        "Limit", "Marker", "SigningAlgorithm", "MessageType", "MacAlgorithm", "DryRun", "TagKeys", "Tags",
    ]

    /// CloudTrail-style request parameters of a KMS call, built from its JSON request body.
    ///
    /// Keeps only ``loggedKMSRequestMembers`` and renames them the way CloudTrail does (`KeyId` → `keyId`,
    /// `EncryptionContext` → `encryptionContext`); the encryption context is kept whole, since it is not secret and
    /// the platform puts the event type there. Plaintext and every other secret-bearing member are dropped.
    ///
    /// - Parameter request: the decoded KMS request body (`{"KeyId": …, "Plaintext": …}`); anything but an object
    ///   gives `nil`.
    public static func kmsRequestParameters(_ request: JSONValue) -> JSONValue? {
        guard case .object(let members) = request else { return nil }
        return loggedParameters(members)
    }

    /// CloudTrail-style request parameters of a KMS call, read from its JSON request body: as
    /// ``kmsRequestParameters(_:)``, but the members that are not logged are only skipped, never built.
    ///
    /// - Returns: `nil` when `body` is not a JSON object.
    public static func kmsRequestParameters(body: some ContiguousBytes) -> JSONValue? {
        guard let members = try? CanonicalJSON.parseObject(body, keeping: loggedKMSRequestMembers.contains) else {
            return nil
        }
        return loggedParameters(members)
    }

    /// The logged members under their CloudTrail names, in canonical order already (records keep it: see
    /// ``Record``); the names are distinct, as the members' are.
    private static func loggedParameters(_ members: JSONObject) -> JSONValue {
        var logged: [JSONObject.Member] = []
        for member in members {
            if let cloudTrailName = cloudTrailNames[member.key] {
                logged.append(JSONObject.Member(key: cloudTrailName, value: member.value))
            }
        }
        logged.sort { CanonicalJSON.keyPrecedes($0.key, $1.key) }
        return .object(JSONObject(uncheckedMembers: logged))
    }

    /// A record of one KMS call.
    ///
    /// - Parameters:
    ///   - operation: the KMS operation (`Decrypt`, `Encrypt`, `GenerateDataKey`…).
    ///   - request: the decoded JSON request body; it goes through ``kmsRequestParameters(_:)``, so it may be passed
    ///     whole, plaintext and all.
    ///   - keyARN: the ARN of the key the call used, when known; becomes the record's resource.
    ///   - errorCode: the KMS error type (`AccessDeniedException`…) of a failed call, `nil` on success.
    public static func kms(
        operation: String,
        request: JSONValue,
        keyARN: String?,
        userIdentity: UserIdentity,
        eventTime: Date,
        awsRegion: String,
        recipientAccountId: String,
        requestID: String,
        sourceIPAddress: String? = nil,
        userAgent: String? = nil,
        responseElements: JSONValue? = nil,
        errorCode: String? = nil,
        errorMessage: String? = nil
    ) -> Record {
        Record(
            eventTime: eventTime,
            eventSource: .kms,
            eventName: operation,
            awsRegion: awsRegion,
            userIdentity: userIdentity,
            sourceIPAddress: sourceIPAddress,
            userAgent: userAgent,
            requestParameters: kmsRequestParameters(request),
            responseElements: responseElements,
            errorCode: errorCode,
            errorMessage: errorMessage,
            requestID: requestID,
            readOnly: readOnlyKMSOperations.contains(operation),
            resources: keyARN.map { [.kmsKey(arn: $0)] } ?? [],
            recipientAccountId: recipientAccountId
        )
    }

    /// KMS operations CloudTrail marks `readOnly` (cryptographic operations and reads do not change a key).
    public static let readOnlyKMSOperations: Set<String> = [
        "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "ReEncrypt", "DescribeKey", "ListKeys", "ListAliases",
        "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags", "GetPublicKey", "Sign", "Verify", "GenerateMac",
        "VerifyMac", "ListKeyRotations",
    ]

    /// Each logged member's CloudTrail name (`KeyId` → `keyId`), computed once.
    private static let cloudTrailNames: [String: String] = Dictionary(
        uniqueKeysWithValues: loggedKMSRequestMembers.map { name in
            (name, name.prefix(1).lowercased() + name.dropFirst())
        }
    )
}

extension Record {
    /// The AWS error codes counted as denials in usage reports.
    public static let denialErrorCodes: Set<String> = ["AccessDeniedException", "AccessDenied"]

    /// Whether the call was refused for lack of permission.
    public var isDenial: Bool { errorCode.map(Self.denialErrorCodes.contains) ?? false }

    /// The keys a record is about, as the query's key filter matches them (see ``keyIdentifier(_:)``): each KMS key
    /// resource and `requestParameters.keyId` (an id, a key ARN, an alias name or an alias ARN), sorted, each once.
    ///
    /// An array, not a set: a record names one or two keys, and the store derives these for every record it writes.
    public var keyIdentifiers: [String] {
        var identifiers: [String] = []
        func add(_ identifier: String) {
            let identifier = Self.keyIdentifier(identifier)
            if !identifiers.contains(identifier) { identifiers.append(identifier) }
        }
        for resource in resources where resource.type == Resource.kmsKeyType { add(resource.arn) }
        if let keyId = requestParameters?["keyId"]?.stringValue { add(keyId) }
        identifiers.sort()
        return identifiers
    }

    /// The form in which a key is indexed and queried: a key ARN (`arn:…:key/ID`) as its key id, anything else (an
    /// id, an alias name, an alias ARN) as given — so a query by a key's ARN or by its id finds the same records.
    ///
    /// A byte scan: it runs for every record written.
    public static func keyIdentifier(_ identifier: String) -> String {
        let utf8 = identifier.utf8
        guard utf8.starts(with: "arn:".utf8), let slash = utf8.lastIndex(of: UInt8(ascii: "/")),
            utf8[..<slash].reversed().starts(with: "yek:".utf8)
        else { return identifier }
        return String(Substring(utf8[utf8.index(after: slash)...]))
    }

    /// The principals a record matches in a query's principal filter: `userIdentity.arn` and, for role sessions, the
    /// session issuer's (the role's) ARN.
    public var principalARNs: Set<String> {
        var arns: Set<String> = []
        if let arn = userIdentity.arn { arns.insert(arn) }
        if let issuer = userIdentity.sessionContext?.sessionIssuer?.arn { arns.insert(issuer) }
        return arns
    }

    /// The platform's event type: the `eventType` member of `requestParameters.encryptionContext`.
    public var contextEventType: String? {
        requestParameters?["encryptionContext"]?["eventType"]?.stringValue
    }
}
