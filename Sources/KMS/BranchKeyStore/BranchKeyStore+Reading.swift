public import Crypto
public import EncryptionSDK
import Foundation

/// A beacon key as ``BranchKeyStore/beaconKey(id:)`` returns it (ESDK spec `framework/structures.md`, beacon key
/// materials): the 32-byte key of a branch key id, for searchable encryption.
public struct BeaconKeyMaterials: Sendable, CustomStringConvertible {
    /// The branch key id the beacon key belongs to.
    public var beaconKeyIdentifier: String
    /// The custom encryption context of the branch key, without the `aws-crypto-ec:` prefix.
    public var encryptionContext: [String: String]
    /// The 32-byte beacon key.
    public var beaconKey: SymmetricKey

    public init(beaconKeyIdentifier: String, encryptionContext: [String: String], beaconKey: SymmetricKey) {
        self.beaconKeyIdentifier = beaconKeyIdentifier
        self.encryptionContext = encryptionContext
        self.beaconKey = beaconKey
    }

    /// Names the key only, never its bytes.
    public var description: String { "BeaconKeyMaterials(\(beaconKeyIdentifier))" }
}

extension BranchKeyStore {
    /// `GetActiveBranchKey`: the active version of a branch key, unwrapped.
    ///
    /// - Parameter id: The branch key id.
    /// - Returns: The key, its version and its custom encryption context.
    /// - Throws: ``BranchKeyStoreError`` `notFound` when the branch key does not exist (never created, or
    ///   destroyed); `malformedItem`, `kmsKeyMismatch`; ``KMSError`` when KMS refuses to unwrap it (access denied,
    ///   a changed attribute); ``DynamoDBError``.
    public func activeBranchKey(id: String) async throws -> BranchKeyMaterials {
        let record = try await record(id: id, type: KeystoreRecordFormat.activeType)
        return try await materials(of: record)
    }

    /// `GetBranchKeyVersion`: one version of a branch key, unwrapped.
    ///
    /// - Parameters:
    ///   - id: The branch key id.
    ///   - version: The version, a UUID string.
    /// - Returns: The key, its version and its custom encryption context.
    /// - Throws: ``BranchKeyStoreError`` `invalidArgument` when `version` is not a UUID, `notFound` when the
    ///   version does not exist; as ``activeBranchKey(id:)`` otherwise.
    public func branchKeyVersion(id: String, version: String) async throws -> BranchKeyMaterials {
        guard let uuid = UUID(uuidString: version) else {
            throw BranchKeyStoreError(.invalidArgument, "the branch key version \"\(version)\" is not a UUID")
        }
        let record = try await record(id: id, type: KeystoreRecordFormat.versionTypePrefix + uuid.lowercasedString)
        return try await materials(of: record)
    }

    /// `GetBeaconKey`: the beacon key of a branch key, unwrapped.
    ///
    /// - Parameter id: The branch key id.
    /// - Returns: The beacon key and the branch key's custom encryption context.
    /// - Throws: As ``activeBranchKey(id:)``.
    public func beaconKey(id: String) async throws -> BeaconKeyMaterials {
        let record = try await record(id: id, type: KeystoreRecordFormat.beaconType)
        return BeaconKeyMaterials(
            beaconKeyIdentifier: record.branchKeyID,
            encryptionContext: record.customEncryptionContext,
            beaconKey: try await unwrap(record)
        )
    }

    /// Reads and checks one record: it exists, has the record format, is the one asked for, and names this
    /// keystore's KMS key.
    func record(id: String, type: String, consistent: Bool = false) async throws -> BranchKeyRecord {
        guard !id.isEmpty else { throw BranchKeyStoreError(.invalidArgument, "the branch key id is empty") }
        let response = try await dynamoDB.send(
            DynamoDBGetItemRequest(
                tableName: tableName,
                key: [KeystoreRecordFormat.branchKeyID: .string(id), KeystoreRecordFormat.type: .string(type)],
                consistentRead: consistent ? true : nil
            )
        )
        guard let item = response.item, !item.isEmpty else {
            throw BranchKeyStoreError(.notFound, "no \(type) item of the branch key \"\(id)\" in \(tableName)")
        }
        let record = try BranchKeyRecord(item: item, logicalKeyStoreName: logicalKeyStoreName)
        guard record.branchKeyID == id, record.encryptionContext[KeystoreRecordFormat.type] == type else {
            throw BranchKeyStoreError(
                .malformedItem,
                "the item read for \(type) of \"\(id)\" is \(record.encryptionContext[KeystoreRecordFormat.type] ?? "")"
                    + " of \"\(record.branchKeyID)\""
            )
        }
        guard record.kmsARN == kmsKeyARN else {
            throw BranchKeyStoreError(
                .kmsKeyMismatch,
                "the \(type) item of \"\(id)\" is wrapped by \(record.kmsARN), not the keystore's key \(kmsKeyARN)"
            )
        }
        return record
    }

    /// Unwraps a branch key record into branch key materials (spec "Branch Key Materials From Authenticated
    /// Encryption Context").
    private func materials(of record: BranchKeyRecord) async throws -> BranchKeyMaterials {
        guard let version = record.version else {
            throw BranchKeyStoreError(.malformedItem, "the \(record.kind) item of \"\(record.branchKeyID)\" has no version")
        }
        return BranchKeyMaterials(
            branchKeyIdentifier: record.branchKeyID,
            branchKeyVersion: version,
            encryptionContext: record.customEncryptionContext,
            branchKey: try await unwrap(record)
        )
    }

    /// `Decrypt` of a record's `enc` with the keystore's key under the record's encryption context (spec "AWS KMS
    /// Branch Key Decryption"); the key must be 32 bytes and KMS must answer for the keystore's key.
    private func unwrap(_ record: BranchKeyRecord) async throws -> SymmetricKey {
        let response = try await kms.send(
            DecryptRequest(
                ciphertextBlob: record.wrappedKey,
                encryptionContext: record.encryptionContext,
                grantTokens: grantTokens,
                keyId: kmsKeyARN
            )
        )
        if let keyId = response.keyId, keyId != kmsKeyARN {
            throw BranchKeyStoreError(
                .kmsKeyMismatch,
                "KMS unwrapped the \(record.kind) item of \"\(record.branchKeyID)\" with \(keyId), not \(kmsKeyARN)"
            )
        }
        guard let plaintext = response.plaintext, plaintext.count == 32 else {
            throw BranchKeyStoreError(
                .malformedItem,
                "the \(record.kind) item of \"\(record.branchKeyID)\" unwraps to \(response.plaintext?.count ?? 0) "
                    + "bytes, not a 32-byte key"
            )
        }
        return SymmetricKey(data: plaintext)
    }
}
