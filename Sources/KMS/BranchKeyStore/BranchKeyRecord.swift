import Foundation

/// The attribute names and `type` values of the keystore's record format (ESDK spec
/// `framework/branch-key-store.md`, "Record Format" and "Encryption Context").
enum KeystoreRecordFormat {
    static let branchKeyID = "branch-key-id"
    static let type = "type"
    static let createTime = "create-time"
    static let hierarchyVersion = "hierarchy-version"
    /// In the encryption context only (the logical keystore name), never in an item.
    static let tableName = "tablename"
    static let kmsARN = "kms-arn"
    /// The wrapped key: in an item only, never in the encryption context.
    static let enc = "enc"
    /// In ACTIVE records only: `branch:version:<uuid>` of the active version.
    static let version = "version"
    static let activeType = "branch:ACTIVE"
    static let versionTypePrefix = "branch:version:"
    static let beaconType = "beacon:ACTIVE"
    /// The prefix of custom encryption context attributes.
    static let customPrefix = "aws-crypto-ec:"
    /// The only hierarchy version this keystore reads and writes.
    static let hierarchyVersion1 = "1"
    /// The largest KMS ciphertext blob.
    static let maxCiphertextBytes = 6144
}

/// One record of the keystore table, checked against the record format of hierarchy version 1, with the
/// encryption context KMS authenticates its wrapped key under.
///
/// The encryption context is every attribute of the item except `enc`, each as its string (`hierarchy-version`'s
/// number text), plus `tablename` = the logical keystore name: what the writer passed to KMS, so a changed
/// attribute fails the unwrap. Its description never shows the wrapped key.
struct BranchKeyRecord: Sendable, CustomStringConvertible {
    /// What a record holds.
    enum Kind: Sendable, Equatable {
        /// `branch:ACTIVE`: a copy of the active version, under another encryption context.
        case active
        /// `branch:version:<uuid>`: one version of the branch key (DECRYPT_ONLY).
        case version
        /// `beacon:ACTIVE`: the beacon key.
        case beacon
    }

    var branchKeyID: String
    var kind: Kind
    /// The version UUID (lower-case) of an active or version record; `nil` for the beacon key.
    var version: String?
    var kmsARN: String
    /// The KMS encryption context (see the type's discussion).
    var encryptionContext: [String: String]
    /// The wrapped key (`enc`).
    var wrappedKey: Data

    /// The custom encryption context: the `aws-crypto-ec:` attributes without their prefix.
    var customEncryptionContext: [String: String] {
        Self.customEncryptionContext(of: encryptionContext)
    }

    var description: String { "BranchKeyRecord(\(branchKeyID), \(kind), version \(version ?? "-"))" }

    /// Parses an item read from the table.
    ///
    /// - Parameters:
    ///   - item: The item, as `GetItem` or `Query` returned it.
    ///   - logicalKeyStoreName: The keystore's logical name, bound into the encryption context as `tablename`.
    /// - Throws: ``BranchKeyStoreError`` `malformedItem` naming the first attribute that breaks the format.
    init(item: DynamoDBItem, logicalKeyStoreName: String) throws(BranchKeyStoreError) {
        typealias F = KeystoreRecordFormat
        func malformed(_ reason: String) -> BranchKeyStoreError {
            let id = item[F.branchKeyID]?.stringValue.map { "the keystore item of \"\($0)\"" } ?? "a keystore item"
            return BranchKeyStoreError(.malformedItem, "\(id) \(reason)")
        }
        func string(_ name: String) throws(BranchKeyStoreError) -> String {
            guard let value = item[name] else { throw malformed("has no \(name) attribute") }
            guard let text = value.stringValue else { throw malformed("has \(name) of type \(value.typeName), not S") }
            return text
        }

        let branchKeyID = try string(F.branchKeyID)
        guard !branchKeyID.isEmpty else { throw malformed("has an empty branch-key-id") }
        let type = try string(F.type)
        _ = try string(F.createTime)
        let kmsARN = try string(F.kmsARN)
        guard let arn = KMSARN(kmsARN), arn.resourceType == .key else {
            throw malformed("has a kms-arn that is not a KMS key ARN")
        }
        guard let hierarchy = item[F.hierarchyVersion] else { throw malformed("has no hierarchy-version attribute") }
        guard let hierarchyText = hierarchy.numberValue else {
            throw malformed("has hierarchy-version of type \(hierarchy.typeName), not N")
        }
        guard hierarchyText == F.hierarchyVersion1 else {
            throw malformed("has hierarchy-version \(hierarchyText); only version 1 is supported")
        }
        guard item[F.tableName] == nil else { throw malformed("has a tablename attribute, which is reserved") }
        guard let enc = item[F.enc] else { throw malformed("has no enc attribute") }
        guard let wrapped = enc.binaryValue else { throw malformed("has enc of type \(enc.typeName), not B") }
        guard (1...F.maxCiphertextBytes).contains(wrapped.count) else {
            throw malformed("has an enc of \(wrapped.count) bytes, not a KMS ciphertext")
        }

        var context: [String: String] = [F.tableName: logicalKeyStoreName]
        for (name, value) in item where name != F.enc && name != F.hierarchyVersion {
            guard let text = value.stringValue else {
                throw malformed("has \(name) of type \(value.typeName), not S")
            }
            context[name] = text
        }
        context[F.hierarchyVersion] = hierarchyText

        let kind: Kind
        let versionText: String?
        switch type {
        case F.activeType:
            kind = .active
            guard item[F.version] != nil else { throw malformed("of type branch:ACTIVE has no version attribute") }
            versionText = try string(F.version)
        case F.beaconType:
            kind = .beacon
            versionText = nil
        case _ where type.hasPrefix(F.versionTypePrefix):
            kind = .version
            versionText = type
        default:
            throw malformed("has type \"\(type)\", not branch:ACTIVE, beacon:ACTIVE or branch:version:<uuid>")
        }
        if kind != .active, item[F.version] != nil {
            throw malformed("of type \(type) has a version attribute, which only branch:ACTIVE items have")
        }
        var version: String? = nil
        if let versionText {
            guard versionText.hasPrefix(F.versionTypePrefix),
                let uuid = UUID(uuidString: String(versionText.dropFirst(F.versionTypePrefix.count)))
            else { throw malformed("has a version \"\(versionText)\" that is not branch:version:<uuid>") }
            version = uuid.lowercasedString
        }

        self.branchKeyID = branchKeyID
        self.kind = kind
        self.version = version
        self.kmsARN = kmsARN
        self.encryptionContext = context
        self.wrappedKey = wrapped
    }

    /// The custom encryption context of a KMS encryption context: its `aws-crypto-ec:` entries without the prefix.
    static func customEncryptionContext(of context: [String: String]) -> [String: String] {
        let prefix = KeystoreRecordFormat.customPrefix
        var custom: [String: String] = [:]
        for (key, value) in context where key.hasPrefix(prefix) {
            custom[String(key.dropFirst(prefix.count))] = value
        }
        return custom
    }

    /// The DECRYPT_ONLY encryption context of a new version (spec "DECRYPT_ONLY Encryption Context").
    static func decryptOnlyContext(
        branchKeyID: String,
        version: String,
        createTime: String,
        logicalKeyStoreName: String,
        kmsARN: String,
        custom: [String: String]
    ) -> [String: String] {
        typealias F = KeystoreRecordFormat
        var context: [String: String] = [
            F.branchKeyID: branchKeyID,
            F.type: F.versionTypePrefix + version,
            F.createTime: createTime,
            F.tableName: logicalKeyStoreName,
            F.kmsARN: kmsARN,
            F.hierarchyVersion: F.hierarchyVersion1,
        ]
        for (key, value) in custom { context[F.customPrefix + key] = value }
        return context
    }

    /// The ACTIVE encryption context of a version: its DECRYPT_ONLY context with `type` `branch:ACTIVE` and
    /// `version` the version's type (spec "ACTIVE Encryption Context").
    static func activeContext(decryptOnly: [String: String]) -> [String: String] {
        var context = decryptOnly
        context[KeystoreRecordFormat.version] = decryptOnly[KeystoreRecordFormat.type]
        context[KeystoreRecordFormat.type] = KeystoreRecordFormat.activeType
        return context
    }

    /// The beacon key's encryption context: the first version's DECRYPT_ONLY context with `type` `beacon:ACTIVE`.
    static func beaconContext(decryptOnly: [String: String]) -> [String: String] {
        var context = decryptOnly
        context[KeystoreRecordFormat.type] = KeystoreRecordFormat.beaconType
        return context
    }

    /// The item that stores a wrapped key under an encryption context: every entry but `tablename` as a string
    /// attribute, `hierarchy-version` as a number, and `enc` the wrapped key.
    static func item(encryptionContext: [String: String], wrappedKey: Data) -> DynamoDBItem {
        var item: DynamoDBItem = [KeystoreRecordFormat.enc: .binary(wrappedKey)]
        for (key, value) in encryptionContext where key != KeystoreRecordFormat.tableName {
            item[key] = key == KeystoreRecordFormat.hierarchyVersion ? .number(value) : .string(value)
        }
        return item
    }
}
