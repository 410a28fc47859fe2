internal import Crypto
internal import Foundation
internal import SealedSupport
public import WireShapes

extension KeyService {
    /// `Encrypt`: at most 4096 bytes under the key's newest material, bound to the encryption context.
    ///
    /// Accepts every identifier form. - Throws: `DisabledException`, `KMSInvalidStateException` (pending
    /// deletion), `ValidationException` for an empty or over-long plaintext, `InvalidKeyUsageException` for an
    /// asymmetric algorithm, `DryRunOperationException` when `DryRun` is set and the call would succeed.
    public func encrypt(_ request: EncryptRequest, caller: Caller) async throws -> EncryptResponse {
        try Self.validatePlaintext(request.plaintext)
        try Self.validateAlgorithm(request.encryptionAlgorithm, member: "encryptionAlgorithm")
        let now = self.now()
        let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .encrypt), at: now)
        try await authorize(caller, "kms:Encrypt", on: key, encryptionContext: request.encryptionContext, at: now)
        try requireUsable(key)
        if request.dryRun == true { throw KMSError.dryRunSucceeded }
        let blob = try seal(request.plaintext, under: key, encryptionContext: request.encryptionContext)
        return EncryptResponse(ciphertextBlob: blob.blob, keyId: key.arn, encryptionAlgorithm: .symmetricDefault)
    }

    /// `Decrypt`: with or without `KeyId` (every identifier form); the blob names its key and material version.
    ///
    /// - Throws: `InvalidCiphertextException` for a malformed or tampered blob, a wrong encryption context, or a blob
    ///   whose key is unknown or deleted (one error, no detail); `IncorrectKeyException` when `KeyId` names another
    ///   key than the blob's; `DisabledException`, `KMSInvalidStateException` for the blob's key.
    public func decrypt(_ request: DecryptRequest, caller: Caller) async throws -> DecryptResponse {
        try Self.validateAlgorithm(request.encryptionAlgorithm, member: "encryptionAlgorithm")
        let now = self.now()
        let (key, blob) = try await sourceKey(
            of: request.ciphertextBlob,
            named: request.keyId,
            operation: .decrypt,
            at: now
        )
        try await authorize(caller, "kms:Decrypt", on: key, encryptionContext: request.encryptionContext, at: now)
        try requireUsable(key)
        if request.dryRun == true { throw KMSError.dryRunSucceeded }
        let (plaintext, material) = try open(blob, of: key, encryptionContext: request.encryptionContext)
        return DecryptResponse(
            keyId: key.arn,
            plaintext: plaintext,
            encryptionAlgorithm: .symmetricDefault,
            keyMaterialId: material.materialID
        )
    }

    /// `ReEncrypt`: decrypts under the blob's key and encrypts under `DestinationKeyId` without releasing the
    /// plaintext. Authorizes `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the destination key.
    public func reEncrypt(_ request: ReEncryptRequest, caller: Caller) async throws -> ReEncryptResponse {
        try Self.validateAlgorithm(request.sourceEncryptionAlgorithm, member: "sourceEncryptionAlgorithm")
        try Self.validateAlgorithm(request.destinationEncryptionAlgorithm, member: "destinationEncryptionAlgorithm")
        let now = self.now()
        let (source, blob) = try await sourceKey(
            of: request.ciphertextBlob,
            named: request.sourceKeyId,
            operation: .reEncrypt,
            at: now
        )
        let destination = try await resolve(
            request.destinationKeyId,
            accepting: IdentifierForms.accepted(by: .reEncrypt),
            member: "destinationKeyId",
            at: now
        )
        try await authorize(
            caller,
            "kms:ReEncryptFrom",
            on: source,
            encryptionContext: request.sourceEncryptionContext,
            at: now
        )
        try await authorize(
            caller,
            "kms:ReEncryptTo",
            on: destination,
            encryptionContext: request.destinationEncryptionContext,
            at: now
        )
        try requireUsable(source)
        try requireUsable(destination)
        if request.dryRun == true { throw KMSError.dryRunSucceeded }
        let (plaintext, _) = try open(blob, of: source, encryptionContext: request.sourceEncryptionContext)
        let sealed = try seal(plaintext, under: destination, encryptionContext: request.destinationEncryptionContext)
        return ReEncryptResponse(
            ciphertextBlob: sealed.blob,
            sourceKeyId: source.arn,
            keyId: destination.arn,
            sourceEncryptionAlgorithm: .symmetricDefault,
            destinationEncryptionAlgorithm: .symmetricDefault
        )
    }

    /// `GenerateDataKey`: a random data key of `NumberOfBytes` (1–1024) or `KeySpec` (`AES_128`, `AES_256`) bytes,
    /// in plaintext and encrypted under the key.
    public func generateDataKey(
        _ request: GenerateDataKeyRequest,
        caller: Caller
    ) async throws
        -> GenerateDataKeyResponse
    {
        let count = try Self.dataKeyLength(numberOfBytes: request.numberOfBytes, keySpec: request.keySpec)
        let now = self.now()
        let key = try await resolve(request.keyId, accepting: IdentifierForms.accepted(by: .generateDataKey), at: now)
        try await authorize(
            caller,
            "kms:GenerateDataKey",
            on: key,
            encryptionContext: request.encryptionContext,
            at: now
        )
        try requireUsable(key)
        if request.dryRun == true { throw KMSError.dryRunSucceeded }
        let dataKey = Random.data(count)
        let sealed = try seal(dataKey, under: key, encryptionContext: request.encryptionContext)
        return GenerateDataKeyResponse(
            ciphertextBlob: sealed.blob,
            plaintext: dataKey,
            keyId: key.arn,
            keyMaterialId: sealed.material.materialID
        )
    }

    /// `GenerateDataKeyWithoutPlaintext`: as ``generateDataKey(_:caller:)``, returning only the encrypted data key.
    public func generateDataKeyWithoutPlaintext(
        _ request: GenerateDataKeyWithoutPlaintextRequest,
        caller: Caller
    )
        async throws -> GenerateDataKeyWithoutPlaintextResponse
    {
        let count = try Self.dataKeyLength(numberOfBytes: request.numberOfBytes, keySpec: request.keySpec)
        let now = self.now()
        let key = try await resolve(
            request.keyId,
            accepting: IdentifierForms.accepted(by: .generateDataKeyWithoutPlaintext),
            at: now
        )
        try await authorize(
            caller,
            "kms:GenerateDataKeyWithoutPlaintext",
            on: key,
            encryptionContext: request.encryptionContext,
            at: now
        )
        try requireUsable(key)
        if request.dryRun == true { throw KMSError.dryRunSucceeded }
        let sealed = try seal(Random.data(count), under: key, encryptionContext: request.encryptionContext)
        return GenerateDataKeyWithoutPlaintextResponse(
            ciphertextBlob: sealed.blob,
            keyId: key.arn,
            keyMaterialId: sealed.material.materialID
        )
    }

    /// `GenerateRandom`: 1–1024 random bytes. - Throws: `UnsupportedOperationException` for a custom key store.
    public func generateRandom(_ request: GenerateRandomRequest, caller: Caller) async throws -> GenerateRandomResponse
    {
        guard let count = request.numberOfBytes else {
            throw KMSError.validation("NumberOfBytes is required.")
        }
        try Self.validateByteCount(count)
        if request.customKeyStoreId != nil { throw Self.unsupported("Custom key stores") }
        try await authorize(caller, action: "kms:GenerateRandom", resource: "*", key: nil, at: self.now())
        return GenerateRandomResponse(plaintext: Random.data(count))
    }

    // MARK: - Helpers

    /// The key of a ciphertext blob, checked against the `KeyId` the request names, if any.
    func sourceKey(
        of ciphertext: Data,
        named identifier: String?,
        operation: KMSOperation,
        at now: Date
    )
        async throws -> (KeyRecord, CiphertextBlob)
    {
        guard !ciphertext.isEmpty else {
            throw KMSError.validation(
                value: "",
                member: "ciphertextBlob",
                constraint: "have length greater than or equal to 1"
            )
        }
        guard ciphertext.count <= 6144 else {
            throw KMSError.validation(
                value: "…",
                member: "ciphertextBlob",
                constraint: "have length less than or equal to 6144"
            )
        }
        guard let blob = CiphertextBlob(ciphertext) else { throw KMSError.ciphertextRejected }
        if let identifier {
            let named = try await resolve(
                identifier,
                accepting: IdentifierForms.accepted(by: operation),
                member: operation == .reEncrypt ? "sourceKeyId" : "keyId",
                at: now
            )
            guard named.id == blob.keyID else { throw KMSError.incorrectKeyForCiphertext }
            return (named, blob)
        }
        guard let key = try await store.key(id: blob.keyID), !Self.isDestroyed(key, at: now) else {
            throw KMSError.ciphertextRejected
        }
        return (key, blob)
    }

    /// Encrypts under the key's newest material.
    func seal(
        _ plaintext: Data,
        under key: KeyRecord,
        encryptionContext: [String: String]?
    ) throws
        -> (blob: Data, material: SealedMaterial)
    {
        guard let current = key.currentMaterial, let uuid = UUID(uuidString: key.id) else {
            throw KMSError(code: .kmsInternalException, message: "\(key.arn) has no key material.")
        }
        let material = try openMaterial(current, of: key)
        do {
            let blob = try CiphertextBlob.seal(
                plaintext,
                keyUUID: uuid,
                materialVersion: current.version,
                material: material,
                encryptionContext: encryptionContext ?? [:]
            )
            return (blob, current)
        } catch {
            throw KMSError(code: .kmsInternalException, message: "Encryption failed.")
        }
    }

    /// Decrypts a blob of `key`; any failure is `InvalidCiphertextException`.
    func open(
        _ blob: CiphertextBlob,
        of key: KeyRecord,
        encryptionContext: [String: String]?
    ) throws
        -> (Data, SealedMaterial)
    {
        guard let sealed = key.materials.first(where: { $0.version == blob.materialVersion }) else {
            throw KMSError.ciphertextRejected
        }
        let material = try openMaterial(sealed, of: key)
        guard let plaintext = blob.open(with: material, encryptionContext: encryptionContext ?? [:]) else {
            throw KMSError.ciphertextRejected
        }
        return (plaintext, sealed)
    }

    static func validatePlaintext(_ plaintext: Data) throws {
        guard !plaintext.isEmpty else {
            throw KMSError.validation(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        }
        guard plaintext.count <= 4096 else {
            throw KMSError.validation(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
            )
        }
    }

    static func validateAlgorithm(_ algorithm: EncryptionAlgorithm?, member: String) throws {
        guard let algorithm, algorithm != .symmetricDefault else { return }
        guard [.rsaesOAEPSHA1, .rsaesOAEPSHA256, .sm2PKE].contains(algorithm) else {
            throw KMSError.validation(
                value: algorithm.rawValue,
                member: member,
                constraint: "satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]"
            )
        }
        throw KMSError(
            code: .invalidKeyUsageException,
            message: "The encryption algorithm \(algorithm) is not supported by a SYMMETRIC_DEFAULT key."
        )
    }

    static func validateByteCount(_ count: Int) throws {
        guard count >= 1 else {
            throw KMSError.validation(
                value: "\(count)",
                member: "numberOfBytes",
                constraint: "have value greater than or equal to 1"
            )
        }
        guard count <= 1024 else {
            throw KMSError.validation(
                value: "\(count)",
                member: "numberOfBytes",
                constraint: "have value less than or equal to 1024"
            )
        }
    }

    /// The length of a data key: `NumberOfBytes` or `KeySpec`, exactly one of them.
    static func dataKeyLength(numberOfBytes: Int?, keySpec: DataKeySpec?) throws -> Int {
        switch (numberOfBytes, keySpec) {
        case (nil, nil):
            throw KMSError.validation("Please specify either number of bytes or key spec.")
        case (.some, .some):
            throw KMSError.validation("Please specify either number of bytes or key spec, not both.")
        case (let count?, nil):
            try validateByteCount(count)
            return count
        case (nil, let spec?):
            switch spec {
            case .aes128: return 16
            case .aes256: return 32
            default:
                throw KMSError.validation(
                    value: spec.rawValue,
                    member: "keySpec",
                    constraint: "satisfy enum value set: [AES_256, AES_128]"
                )
            }
        }
    }
}
