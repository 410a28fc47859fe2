internal import Crypto
internal import Foundation
internal import SealedSupport

/// The AWS KMS Hierarchical keyring of the Encryption SDK (ESDK spec
/// `framework/aws-kms/aws-kms-hierarchical-keyring.md`): data keys are wrapped locally with a key derived from a
/// **branch key** that a branch keystore holds wrapped by AWS KMS, so one KMS call serves many messages — and
/// destroying a branch key makes every message it wrapped unreadable, everywhere at once.
///
/// Wire format, as the official implementations write it: the encrypted data key has the provider ID
/// `aws-kms-hierarchy` and the branch key id (UTF-8) as provider info; its ciphertext is
/// `salt (16) ‖ IV (12) ‖ branch key version (16, the UUID's bytes) ‖ wrapped data key ‖ tag (16)`. The wrapping
/// key is NIST SP 800-108 counter-mode HMAC-SHA-256 of the branch key over the label `aws-kms-hierarchy` and the
/// salt: `HMAC(branchKey, be32(1) ‖ "aws-kms-hierarchy" ‖ 0x00 ‖ salt ‖ be32(256))`. The data key is sealed with
/// AES-256-GCM under it, authenticating `"aws-kms-hierarchy" ‖ branch key id ‖ version (16) ‖ the serialized
/// encryption context`.
///
/// The branch key id is fixed, or chosen per message by a ``BranchKeyIDSupplier`` from the encryption context. On
/// encrypt the keyring uses the id's active version; on decrypt it tries, in header order, the encrypted data keys
/// with its provider ID whose provider info is the id, fetching the version each one names. Branch keys are cached
/// (``BranchKeyCache``) for its TTL. On decrypt, the keystore's errors (a destroyed key, access denied) are kept as
/// the ``EncryptionSDKError/underlyingErrors`` of the `noDecryptableDataKey` error.
public struct HierarchicalKeyring: Keyring, CustomStringConvertible {
    /// The provider ID of encrypted data keys this keyring writes.
    public static let providerID = "aws-kms-hierarchy"

    private enum BranchKeyID: Sendable {
        case fixed(String)
        case supplied(any BranchKeyIDSupplier)
    }

    public let provider: any BranchKeyProvider
    public let cache: BranchKeyCache
    private let branchKeyID: BranchKeyID

    static let saltLength = 16
    static let ivLength = 12
    static let versionLength = 16
    static let tagLength = 16
    private static let label = Array(providerID.utf8)

    /// A keyring for one branch key.
    ///
    /// - Parameters:
    ///   - branchKeyID: The branch key every message is wrapped with.
    ///   - provider: Where branch keys come from (a branch keystore).
    ///   - cache: The branch key cache; by default one of its own (1000 entries, 60-second TTL).
    /// - Throws: ``EncryptionSDKError`` `invalidArgument` for an empty id.
    public init(
        branchKeyID: String,
        provider: any BranchKeyProvider,
        cache: BranchKeyCache? = nil
    ) throws(EncryptionSDKError) {
        guard !branchKeyID.isEmpty else { throw .invalidArgument("a branch key id must not be empty") }
        try self.init(.fixed(branchKeyID), provider: provider, cache: cache)
    }

    /// A keyring that chooses the branch key of each message from its encryption context.
    ///
    /// - Parameters:
    ///   - supplier: Chooses the branch key id.
    ///   - provider: Where branch keys come from (a branch keystore).
    ///   - cache: The branch key cache; by default one of its own (1000 entries, 60-second TTL).
    public init(
        supplier: any BranchKeyIDSupplier,
        provider: any BranchKeyProvider,
        cache: BranchKeyCache? = nil
    ) throws(EncryptionSDKError) {
        try self.init(.supplied(supplier), provider: provider, cache: cache)
    }

    private init(_ id: BranchKeyID, provider: any BranchKeyProvider, cache: BranchKeyCache?) throws(EncryptionSDKError) {
        self.branchKeyID = id
        self.provider = provider
        if let cache {
            self.cache = cache
        } else {
            self.cache = try BranchKeyCache()
        }
    }

    public var description: String {
        switch branchKeyID {
        case .fixed(let id): "HierarchicalKeyring(\(id), TTL \(cache.ttl))"
        case .supplied: "HierarchicalKeyring(supplied ids, TTL \(cache.ttl))"
        }
    }

    private func id(for context: EncryptionContext) throws -> String {
        switch branchKeyID {
        case .fixed(let id): return id
        case .supplied(let supplier):
            let id = try supplier.branchKeyID(for: context)
            guard !id.isEmpty else { throw EncryptionSDKError.invalidArgument("the supplier chose an empty branch key id") }
            return id
        }
    }

    public func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        let id = try id(for: materials.encryptionContext)
        let cached = try await activeBranchKey(id)
        let branch = cached.materials
        var materials = materials
        let dataKey =
            materials.plaintextDataKey ?? SymmetricKey(size: .init(bitCount: materials.algorithmSuite.keyLength * 8))
        let salt = Self.random(Self.saltLength)
        let nonce = AES.GCM.Nonce()
        let version = try Self.versionBytes(branch.branchKeyVersion)
        let aad = try Self.additionalData(id: id, version: version, context: materials.encryptionContext)
        let sealed = try dataKey.withUnsafeBytes { plaintext in
            try AES.GCM.seal(
                plaintext,
                using: Self.wrappingKey(cached.derivation, salt: salt),
                nonce: nonce,
                authenticating: aad
            )
        }
        var ciphertext = salt
        ciphertext.reserveCapacity(Self.saltLength + Self.ivLength + Self.versionLength + dataKey.bitCount / 8 + 16)
        ciphertext.append(contentsOf: nonce)
        ciphertext.append(contentsOf: version)
        ciphertext.append(contentsOf: sealed.ciphertext)
        ciphertext.append(contentsOf: sealed.tag)
        materials.plaintextDataKey = dataKey
        materials.encryptedDataKeys.append(
            EncryptedDataKey(providerID: Self.providerID, providerInfo: Array(id.utf8), ciphertext: ciphertext)
        )
        return materials
    }

    public func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials {
        guard materials.plaintextDataKey == nil else {
            throw EncryptionSDKError.invalidMaterials("materials already hold a data key")
        }
        let id = try id(for: materials.encryptionContext)
        let keyLength = materials.algorithmSuite.keyLength
        let headerLength = Self.saltLength + Self.ivLength + Self.versionLength
        var errors: [any Error & Sendable] = []
        for edk in encryptedDataKeys
        where edk.providerID.hasSameUTF8(as: Self.providerID) && Self.isInfo(edk.providerInfo, of: id) {
            let bytes = edk.ciphertext
            guard bytes.count == headerLength + keyLength + Self.tagLength else {
                errors.append(EncryptionSDKError.malformed("a hierarchy encrypted data key has the wrong length"))
                continue
            }
            let salt = bytes[0..<Self.saltLength]
            let versionBytes = bytes[(Self.saltLength + Self.ivLength)..<headerLength]
            do {
                let branch = try await branchKeyVersion(id, versionBytes)
                let aad = try Self.additionalData(id: id, version: versionBytes, context: materials.encryptionContext)
                let box = try AES.GCM.SealedBox(
                    nonce: AES.GCM.Nonce(data: bytes[Self.saltLength..<(Self.saltLength + Self.ivLength)]),
                    ciphertext: bytes[headerLength..<(headerLength + keyLength)],
                    tag: bytes[(headerLength + keyLength)...]
                )
                let key = try AES.GCM.open(box, using: Self.wrappingKey(branch.derivation, salt: salt), authenticating: aad)
                var materials = materials
                materials.plaintextDataKey = SymmetricKey(data: key)
                return materials
            } catch is CryptoKitError {
                errors.append(EncryptionSDKError(.noDecryptableDataKey, "a hierarchy encrypted data key did not unwrap"))
            } catch {
                errors.append(error)
            }
        }
        guard !errors.isEmpty else {
            throw EncryptionSDKError.noDecryptableKey("no encrypted data key is wrapped by the branch key \(id)")
        }
        throw EncryptionSDKError(
            .noDecryptableDataKey,
            "no encrypted data key of the branch key \(id) could be unwrapped: "
                + errors.map { "\($0)" }.joined(separator: "; "),
            underlyingErrors: errors
        )
    }

    // MARK: - Branch keys, through the cache

    /// The active version of `id`: cached, or fetched and checked.
    private func activeBranchKey(_ id: String) async throws -> CachedBranchKey {
        if let cached = cache.cached(.active(id)) { return cached }
        let provider = self.provider
        return try await cache.fetch(.active(id)) {
            let branch = try await provider.activeBranchKey(id: id)
            try Self.check(branch, id: id, version: nil)
            return branch
        }
    }

    /// The version of `id` whose UUID is `versionBytes`: cached, or fetched and checked. The version's string form
    /// is only made for the keystore, on a miss.
    private func branchKeyVersion(_ id: String, _ versionBytes: ArraySlice<UInt8>) async throws -> CachedBranchKey {
        let bits = versionBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt128.self) }
        if let cached = cache.cached(.version(id, bits)) { return cached }
        let provider = self.provider
        let version = UUID(uuid: Self.tuple(Array(versionBytes))).uuidString.lowercased()
        return try await cache.fetch(.version(id, bits)) {
            let branch = try await provider.branchKeyVersion(id: id, version: version)
            try Self.check(branch, id: id, version: version)
            return branch
        }
    }

    // MARK: - The wire format's pieces

    /// `HMAC-SHA-256(branchKey, be32(1) ‖ "aws-kms-hierarchy" ‖ 0x00 ‖ salt ‖ be32(256))`: one block of SP 800-108
    /// counter mode, 32 bytes, with the HMAC already keyed by the branch key.
    static func wrappingKey(_ derivation: KeyedHMAC<SHA256>, salt: some Collection<UInt8>) -> SymmetricKey {
        let inputLength = 4 + label.count + 1 + saltLength + 4
        return withUnsafeTemporaryAllocation(byteCount: inputLength + 32, alignment: 8) { scratch in
            defer { scratch.initializeMemory(as: UInt8.self, repeating: 0) }
            var offset = 0
            func put(_ bytes: some Collection<UInt8>) {
                for byte in bytes {
                    scratch[offset] = byte
                    offset += 1
                }
            }
            put([0, 0, 0, 1])
            put(label)
            put([0])
            put(salt)
            put([0, 0, 1, 0])
            let code = UnsafeMutableRawBufferPointer(rebasing: scratch[inputLength...])
            derivation.code(for: UnsafeRawBufferPointer(rebasing: scratch[0..<inputLength]), into: code)
            return SymmetricKey(data: UnsafeRawBufferPointer(code))
        }
    }

    /// `"aws-kms-hierarchy" ‖ branch key id ‖ version (16 bytes) ‖ serialized encryption context`.
    static func additionalData(id: String, version: some Collection<UInt8>, context: EncryptionContext) throws -> [UInt8] {
        var aad = label
        aad.append(contentsOf: id.utf8)
        aad.append(contentsOf: version)
        aad.append(contentsOf: try ContextCoding.serialize(context))
        return aad
    }

    /// The 16 bytes of a version UUID string.
    static func versionBytes(_ version: String) throws(EncryptionSDKError) -> [UInt8] {
        guard let uuid = UUID(uuidString: version) else {
            throw .invalidMaterials("the branch key version \(version) is not a UUID")
        }
        return withUnsafeBytes(of: uuid.uuid) { Array($0) }
    }

    /// Checks what the keystore returned is the branch key asked for, of 32 bytes.
    private static func check(_ branch: BranchKeyMaterials, id: String, version: String?) throws(EncryptionSDKError) {
        guard branch.branchKeyIdentifier == id else {
            throw .invalidMaterials("the keystore returned the branch key \(branch.branchKeyIdentifier), not \(id)")
        }
        if let version, branch.branchKeyVersion.lowercased() != version {
            throw .invalidMaterials("the keystore returned version \(branch.branchKeyVersion) of \(id), not \(version)")
        }
        guard branch.branchKey.bitCount == 256 else {
            throw .invalidMaterials("a branch key is 32 bytes, not \(branch.branchKey.bitCount / 8)")
        }
    }

    /// Whether an encrypted data key's provider info is the branch key id, byte for byte.
    private static func isInfo(_ info: [UInt8], of id: String) -> Bool {
        var id = id
        return id.withUTF8 { id in info.withUnsafeBufferPointer { sameUTF8Bytes($0, id) } }
    }

    private static func random(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { Random.fill($0) }
        return bytes
    }

    private static func tuple(_ bytes: [UInt8]) -> uuid_t {
        (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        )
    }
}

/// Reads the branch key id of a message from one key of its encryption context.
public struct BranchKeyIDFromContext: BranchKeyIDSupplier {
    /// The encryption context key that holds the branch key id.
    public let key: String

    public init(key: String) { self.key = key }

    public func branchKeyID(for encryptionContext: EncryptionContext) throws -> String {
        guard let id = encryptionContext[key], !id.isEmpty else {
            throw EncryptionSDKError.invalidContext("the encryption context has no \(key) to choose a branch key with")
        }
        return id
    }
}
