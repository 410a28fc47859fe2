public import EncryptionSDK
import Foundation
import SealedSupport

/// The branch keystore of the AWS KMS Hierarchical keyring (ESDK spec `framework/branch-key-store.md`, hierarchy
/// version 1): branch keys and beacon keys wrapped by one KMS key, stored in a DynamoDB table, item for item what
/// the official Material Providers Library `KeyStore` writes and reads, so either side reads the other's keys.
///
/// - ``createKeyStore()`` creates the table (`branch-key-id` HASH, `type` RANGE) unless it exists.
/// - ``createKey(branchKeyID:encryptionContext:)`` makes a branch key: `GenerateDataKeyWithoutPlaintext` under the
///   DECRYPT_ONLY encryption context, `ReEncrypt` to the ACTIVE one, a second `GenerateDataKeyWithoutPlaintext`
///   for the beacon key, and one `TransactWriteItems` of the three records, each conditioned on
///   `attribute_not_exists`.
/// - ``versionKey(branchKeyID:)`` rotates it: reads the ACTIVE record, authenticates it with `ReEncrypt`, makes a
///   new version and writes it with the ACTIVE record conditioned on the old `enc` (no lost update).
/// - ``activeBranchKey(id:)``, ``branchKeyVersion(id:version:)`` and ``beaconKey(id:)`` read a record and unwrap
///   it with `Decrypt` under the encryption context rebuilt from the record: every attribute but `enc`, plus
///   `tablename` = the logical keystore name.
/// - ``destroyBranchKey(id:)`` deletes every record of a branch key (crypto-shredding) and ``versions(of:)``
///   lists its versions.
///
/// The custom encryption context of a branch key is stored as `aws-crypto-ec:<key>` attributes and is part of
/// every KMS call on it, so a key policy can condition `kms:Decrypt` on
/// `kms:EncryptionContext:aws-crypto-ec:<key>`. A missing record is ``BranchKeyStoreError/Code/notFound``; KMS
/// refusing to unwrap stays a ``KMSError``.
public struct BranchKeyStore: BranchKeyProvider, CustomStringConvertible {
    /// The DynamoDB table.
    public let tableName: String
    /// The logical keystore name, bound to every key as the `tablename` encryption context entry.
    public let logicalKeyStoreName: String
    /// The KMS key ARN that wraps every key of this keystore.
    public let kmsKeyARN: String
    /// Grant tokens sent with every KMS call.
    public let grantTokens: [String]
    let dynamoDB: any DynamoDBAPI
    let kms: any KMSAPI

    /// Creates a keystore.
    ///
    /// - Parameters:
    ///   - tableName: The DynamoDB table name (3 to 255 of `a-z A-Z 0-9 _ - .`).
    ///   - logicalKeyStoreName: The logical name bound to every key; not empty. Keep it when the table is restored
    ///     under another name.
    ///   - kmsKeyARN: The KMS key that wraps the keys: a key ARN, not an alias or a bare key id (spec "AWS KMS
    ///     Configuration"); records that name another key are refused.
    ///   - dynamoDB: The DynamoDB client.
    ///   - kms: The KMS client.
    ///   - grantTokens: Grant tokens for the KMS calls.
    /// - Throws: ``BranchKeyStoreError`` `invalidArgument` for a bad table name, an empty logical name, or a KMS
    ///   identifier that is not a key ARN.
    public init(
        tableName: String,
        logicalKeyStoreName: String,
        kmsKeyARN: String,
        dynamoDB: any DynamoDBAPI,
        kms: any KMSAPI,
        grantTokens: [String] = []
    ) throws(BranchKeyStoreError) {
        guard Self.isValidTableName(tableName) else {
            throw BranchKeyStoreError(
                .invalidArgument,
                "the table name \"\(tableName)\" is not 3 to 255 letters, digits, '_', '-' or '.'"
            )
        }
        guard !logicalKeyStoreName.isEmpty else {
            throw BranchKeyStoreError(.invalidArgument, "the logical keystore name is empty")
        }
        guard let arn = KMSARN(kmsKeyARN), arn.resourceType == .key else {
            throw BranchKeyStoreError(
                .invalidArgument,
                "the keystore's KMS key \"\(kmsKeyARN)\" is not a KMS key ARN (an alias or key id is not accepted)"
            )
        }
        self.tableName = tableName
        self.logicalKeyStoreName = logicalKeyStoreName
        self.kmsKeyARN = kmsKeyARN
        self.grantTokens = grantTokens
        self.dynamoDB = dynamoDB
        self.kms = kms
    }

    public var description: String {
        "BranchKeyStore(table \(tableName), logical name \(logicalKeyStoreName), KMS key \(kmsKeyARN))"
    }

    static func isValidTableName(_ name: String) -> Bool {
        (3...255).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
    }

    // MARK: - CreateKeyStore

    /// The key schema of a keystore table (spec "KeySchema").
    static let keySchema = [
        DynamoDBKeySchemaElement(attributeName: KeystoreRecordFormat.branchKeyID, keyType: "HASH"),
        DynamoDBKeySchemaElement(attributeName: KeystoreRecordFormat.type, keyType: "RANGE"),
    ]
    static let attributeDefinitions = [
        DynamoDBAttributeDefinition(attributeName: KeystoreRecordFormat.branchKeyID, attributeType: "S"),
        DynamoDBAttributeDefinition(attributeName: KeystoreRecordFormat.type, attributeType: "S"),
    ]

    /// `CreateKeyStore`: makes sure the table exists with the keystore's key schema, creating it (on-demand
    /// billing) when `DescribeTable` answers `ResourceNotFoundException`, and waits until it is `ACTIVE`.
    ///
    /// - Returns: The table's ARN.
    /// - Throws: ``BranchKeyStoreError`` `tableMismatch` when the table has another key schema;
    ///   ``DynamoDBError`` when DynamoDB refuses.
    @discardableResult
    public func createKeyStore() async throws -> String {
        var table: DynamoDBTableDescription?
        do {
            table = try await dynamoDB.send(DynamoDBDescribeTableRequest(tableName: tableName)).table
        } catch let error as DynamoDBError where error.code == .resourceNotFoundException {
            table = try await dynamoDB.send(
                DynamoDBCreateTableRequest(
                    tableName: tableName,
                    attributeDefinitions: Self.attributeDefinitions,
                    keySchema: Self.keySchema,
                    billingMode: "PAY_PER_REQUEST"
                )
            ).tableDescription
        }
        // A new table is CREATING for a few seconds on AWS; keys cannot be written until it is ACTIVE.
        var polls = 0
        while table?.tableStatus == "CREATING", polls < 120 {
            try await Task.sleep(for: .milliseconds(500))
            polls += 1
            table = try await dynamoDB.send(DynamoDBDescribeTableRequest(tableName: tableName)).table
        }
        return try checkSchema(table)
    }

    private func checkSchema(_ table: DynamoDBTableDescription?) throws(BranchKeyStoreError) -> String {
        guard let table else {
            throw BranchKeyStoreError(.invalidResponse, "DynamoDB described the table \(tableName) without a table")
        }
        let keySchema = Set(table.keySchema ?? [])
        let definitions = Set(table.attributeDefinitions ?? [])
        guard keySchema.isSuperset(of: Self.keySchema), definitions.isSuperset(of: Self.attributeDefinitions) else {
            let found = (table.keySchema ?? []).map { "\($0.attributeName) \($0.keyType)" }.joined(separator: ", ")
            throw BranchKeyStoreError(
                .tableMismatch,
                "the table \(tableName) has the key schema [\(found)], not branch-key-id (S) HASH and type (S) RANGE"
            )
        }
        guard let arn = table.tableArn, !arn.isEmpty else {
            throw BranchKeyStoreError(.invalidResponse, "DynamoDB described the table \(tableName) without its ARN")
        }
        return arn
    }

    // MARK: - CreateKey

    /// `CreateKey`: creates a branch key (its first version, the ACTIVE copy, and the beacon key).
    ///
    /// - Parameters:
    ///   - branchKeyID: The id; a random UUID when `nil`. A custom id needs a non-empty `encryptionContext`.
    ///   - encryptionContext: The custom encryption context bound to every version (stored with the
    ///     `aws-crypto-ec:` prefix, sent to KMS on every call for this key).
    /// - Returns: The branch key id.
    /// - Throws: ``BranchKeyStoreError`` `invalidArgument` for an empty id, a custom id without encryption
    ///   context or an empty context key; `conflict` when the branch key already exists; ``KMSError``,
    ///   ``DynamoDBError``.
    @discardableResult
    public func createKey(branchKeyID: String? = nil, encryptionContext: [String: String] = [:]) async throws -> String {
        if let branchKeyID {
            guard !branchKeyID.isEmpty else {
                throw BranchKeyStoreError(.invalidArgument, "a custom branch key id is empty")
            }
            guard !encryptionContext.isEmpty else {
                throw BranchKeyStoreError(
                    .invalidArgument,
                    "a custom branch key id needs a non-empty encryption context (spec CreateKey)"
                )
            }
        }
        guard !encryptionContext.keys.contains(where: \.isEmpty) else {
            throw BranchKeyStoreError(.invalidArgument, "a key of the branch key's encryption context is empty")
        }
        let id = branchKeyID ?? UUID.random().lowercasedString
        let decryptOnly = BranchKeyRecord.decryptOnlyContext(
            branchKeyID: id,
            version: UUID.random().lowercasedString,
            createTime: Self.timestamp(),
            logicalKeyStoreName: logicalKeyStoreName,
            kmsARN: kmsKeyARN,
            custom: encryptionContext
        )
        let active = BranchKeyRecord.activeContext(decryptOnly: decryptOnly)
        let beacon = BranchKeyRecord.beaconContext(decryptOnly: decryptOnly)

        let wrappedVersion = try await generateWrappedKey(encryptionContext: decryptOnly)
        let wrappedActive = try await reEncrypt(wrappedVersion, from: decryptOnly, to: active)
        let wrappedBeacon = try await generateWrappedKey(encryptionContext: beacon)

        let notExists = Self.condition(Self.branchKeyNotExists)
        let transaction = DynamoDBTransactWriteItemsRequest(
            transactItems: [
                put(BranchKeyRecord.item(encryptionContext: decryptOnly, wrappedKey: wrappedVersion), notExists),
                put(BranchKeyRecord.item(encryptionContext: active, wrappedKey: wrappedActive), notExists),
                put(BranchKeyRecord.item(encryptionContext: beacon, wrappedKey: wrappedBeacon), notExists),
            ],
            clientRequestToken: UUID.random().lowercasedString
        )
        do {
            _ = try await dynamoDB.send(transaction)
        } catch let error as DynamoDBError where error.isConditionFailure {
            throw BranchKeyStoreError(.conflict, "the branch key \"\(id)\" already exists")
        }
        return id
    }

    // MARK: - VersionKey

    /// `VersionKey`: rotates a branch key. The ACTIVE record is read and authenticated (`ReEncrypt` under its
    /// own encryption context), a new version is made under the same custom encryption context, and the new
    /// version and ACTIVE records are written in one transaction, the ACTIVE one only if its `enc` is still the
    /// one read, so concurrent rotations cannot both win. Older versions stay readable.
    ///
    /// - Parameter branchKeyID: The branch key.
    /// - Returns: The new active version (a lower-case UUID).
    /// - Throws: ``BranchKeyStoreError`` `notFound`, `malformedItem`, `kmsKeyMismatch`, `conflict` (the active
    ///   version changed or was destroyed meanwhile); ``KMSError``, ``DynamoDBError``.
    @discardableResult
    public func versionKey(branchKeyID: String) async throws -> String {
        let old = try await record(id: branchKeyID, type: KeystoreRecordFormat.activeType, consistent: true)
        // Authenticate every attribute of the ACTIVE record: KMS refuses if one was changed.
        _ = try await reEncrypt(old.wrappedKey, from: old.encryptionContext, to: old.encryptionContext)

        let version = UUID.random().lowercasedString
        var decryptOnly = old.encryptionContext
        decryptOnly[KeystoreRecordFormat.version] = nil
        decryptOnly[KeystoreRecordFormat.type] = KeystoreRecordFormat.versionTypePrefix + version
        decryptOnly[KeystoreRecordFormat.createTime] = Self.timestamp()
        let active = BranchKeyRecord.activeContext(decryptOnly: decryptOnly)

        let wrappedVersion = try await generateWrappedKey(encryptionContext: decryptOnly)
        let wrappedActive = try await reEncrypt(wrappedVersion, from: decryptOnly, to: active)

        let transaction = DynamoDBTransactWriteItemsRequest(
            transactItems: [
                put(
                    BranchKeyRecord.item(encryptionContext: decryptOnly, wrappedKey: wrappedVersion),
                    Self.condition(Self.branchKeyNotExists)
                ),
                put(
                    BranchKeyRecord.item(encryptionContext: active, wrappedKey: wrappedActive),
                    Self.condition(Self.activeUnchanged, values: [":encOld": .binary(old.wrappedKey)])
                ),
            ],
            clientRequestToken: UUID.random().lowercasedString
        )
        do {
            _ = try await dynamoDB.send(transaction)
        } catch let error as DynamoDBError where error.isConditionFailure {
            throw BranchKeyStoreError(
                .conflict,
                "the active version of \"\(branchKeyID)\" changed or was destroyed while it was being versioned"
            )
        }
        return version
    }

    // MARK: - Writing helpers

    /// The condition of a new record: `attribute_not_exists(#BranchKeyIdentifierField)`, as the MPL writes it.
    static let branchKeyNotExists = "attribute_not_exists(#BranchKeyIdentifierField)"
    /// The condition of the ACTIVE record on `VersionKey` (spec 0.7.0, "Mitigate Update Race").
    static let activeUnchanged = "attribute_exists(#BranchKeyIdentifierField) AND enc = :encOld"

    private typealias Condition = (expression: String, names: [String: String], values: DynamoDBItem?)

    private static func condition(_ expression: String, values: DynamoDBItem? = nil) -> Condition {
        (expression, ["#BranchKeyIdentifierField": KeystoreRecordFormat.branchKeyID], values)
    }

    private func put(_ item: DynamoDBItem, _ condition: Condition) -> DynamoDBTransactWriteItem {
        DynamoDBTransactWriteItem(
            put: DynamoDBPutItemRequest(
                tableName: tableName,
                item: item,
                conditionExpression: condition.expression,
                expressionAttributeNames: condition.names,
                expressionAttributeValues: condition.values
            )
        )
    }

    /// The time of a new version: ISO 8601 in UTC to the microsecond (`2024-06-03T19:03:29.358123Z`).
    static func timestamp(_ date: Date = Date()) -> String {
        ISO8601.format(date, fractionDigits: 6)
    }

    // MARK: - KMS

    /// `GenerateDataKeyWithoutPlaintext` of 32 bytes under the keystore's key: the wrapped key only.
    private func generateWrappedKey(encryptionContext: [String: String]) async throws -> Data {
        let response = try await kms.send(
            GenerateDataKeyWithoutPlaintextRequest(
                keyId: kmsKeyARN,
                encryptionContext: encryptionContext,
                numberOfBytes: 32,
                grantTokens: grantTokens
            )
        )
        guard response.keyId != nil, let blob = response.ciphertextBlob,
            (1...KeystoreRecordFormat.maxCiphertextBytes).contains(blob.count)
        else {
            throw BranchKeyStoreError(.invalidResponse, "KMS GenerateDataKeyWithoutPlaintext returned no valid key")
        }
        return blob
    }

    /// `ReEncrypt` from one encryption context to another, under the keystore's key on both sides; KMS must
    /// answer with that key's ARN as source and destination.
    private func reEncrypt(
        _ ciphertext: Data,
        from source: [String: String],
        to destination: [String: String]
    ) async throws -> Data {
        let response = try await kms.send(
            ReEncryptRequest(
                ciphertextBlob: ciphertext,
                sourceEncryptionContext: source,
                sourceKeyId: kmsKeyARN,
                destinationKeyId: kmsKeyARN,
                destinationEncryptionContext: destination,
                grantTokens: grantTokens
            )
        )
        guard response.sourceKeyId == kmsKeyARN, response.keyId == kmsKeyARN else {
            throw BranchKeyStoreError(
                .kmsKeyMismatch,
                "KMS ReEncrypt answered for \(response.sourceKeyId ?? "no key") → \(response.keyId ?? "no key"), "
                    + "not the keystore's key \(kmsKeyARN)"
            )
        }
        guard let blob = response.ciphertextBlob, (1...KeystoreRecordFormat.maxCiphertextBytes).contains(blob.count)
        else { throw BranchKeyStoreError(.invalidResponse, "KMS ReEncrypt returned no valid ciphertext") }
        return blob
    }
}
