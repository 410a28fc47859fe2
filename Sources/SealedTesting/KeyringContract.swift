internal import Crypto
public import EncryptionSDK

/// The checks every ``EncryptionSDK/Keyring`` must pass, for implementers of new keyrings (the KMS
/// keyring, keyrings of other key services).
///
/// ```swift
/// @Test func contract() async throws {
///     try await KeyringContract(keyring: myKeyring).check()
/// }
/// ```
///
/// The keyring under test must be able to both encrypt and decrypt.
public struct KeyringContract: Sendable {
    /// A contract check that failed.
    public struct Violation: Error, CustomStringConvertible {
        public let description: String
    }

    public let keyring: any Keyring
    /// A keyring whose encrypted data keys `keyring` must not decrypt.
    public let foreignKeyring: (any Keyring)?
    /// Whether the keyring binds the encryption context to its encrypted data keys (AES-GCM and KMS
    /// keyrings do; RSA keyrings do not).
    public let bindsEncryptionContext: Bool
    /// Whether the keyring wraps a data key it is given (a multi-keyring with a generator must
    /// refuse one instead, per ESDK spec `multi-keyring.md#onencrypt`).
    public let wrapsExistingDataKeys: Bool

    public init(
        keyring: any Keyring,
        foreignKeyring: (any Keyring)? = nil,
        bindsEncryptionContext: Bool = true,
        wrapsExistingDataKeys: Bool = true
    ) {
        self.keyring = keyring
        self.foreignKeyring = foreignKeyring
        self.bindsEncryptionContext = bindsEncryptionContext
        self.wrapsExistingDataKeys = wrapsExistingDataKeys
    }

    /// Runs every check for each committing suite and one legacy suite.
    public func check() async throws {
        for suite in [
            AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384, .aes128GCMHKDFSHA256,
        ] {
            try await check(suite)
        }
    }

    private func check(_ suite: AlgorithmSuite) async throws {
        let context: EncryptionContext = ["purpose": "contract", "suite": "\(suite)", "ünïcødé": "✓"]
        // 1. Generating: a data key of the suite's length and exactly one encrypted data key.
        let generated = try await keyring.onEncrypt(
            EncryptionMaterials(algorithmSuite: suite, encryptionContext: context)
        )
        let dataKey = try require(generated.plaintextDataKey, "onEncrypt generated no data key (\(suite))")
        try expect(dataKey.bitCount == suite.keyLength * 8, "the generated data key has the wrong length (\(suite))")
        try expect(!generated.encryptedDataKeys.isEmpty, "onEncrypt added no encrypted data key")
        try expect(
            generated.algorithmSuite == suite && generated.encryptionContext == context,
            "onEncrypt changed the suite or context"
        )

        // 2. Wrapping an existing key: keeps it and appends encrypted data keys (or refuses it).
        let existing = SymmetricKey(size: .init(bitCount: suite.keyLength * 8))
        let withKey = EncryptionMaterials(
            algorithmSuite: suite,
            encryptionContext: context,
            plaintextDataKey: existing,
            encryptedDataKeys: generated.encryptedDataKeys
        )
        guard wrapsExistingDataKeys else {
            try await expectFailure("onEncrypt accepted materials that already hold a data key") {
                _ = try await keyring.onEncrypt(withKey)
            }
            return try await checkDecrypt(suite, context: context, generated: generated, dataKey: dataKey)
        }
        let wrapped = try await keyring.onEncrypt(withKey)
        try expect(wrapped.plaintextDataKey == existing, "onEncrypt replaced an existing data key")
        let added = Array(wrapped.encryptedDataKeys.dropFirst(generated.encryptedDataKeys.count))
        try expect(!added.isEmpty, "onEncrypt must append to the existing encrypted data keys")
        try expect(
            Array(wrapped.encryptedDataKeys.prefix(generated.encryptedDataKeys.count)) == generated.encryptedDataKeys,
            "onEncrypt changed existing encrypted data keys"
        )
        let second = try await keyring.onDecrypt(
            DecryptionMaterials(algorithmSuite: suite, encryptionContext: context),
            encryptedDataKeys: added
        )
        try expect(second.plaintextDataKey == existing, "onDecrypt did not recover a wrapped existing data key")
        try await checkDecrypt(suite, context: context, generated: generated, dataKey: dataKey)
    }

    /// 3–5: decrypting its own keys, refusing others, and a round trip through the client.
    private func checkDecrypt(
        _ suite: AlgorithmSuite,
        context: EncryptionContext,
        generated: EncryptionMaterials,
        dataKey: SymmetricKey
    ) async throws {
        let fresh = DecryptionMaterials(algorithmSuite: suite, encryptionContext: context)
        let first = try await keyring.onDecrypt(fresh, encryptedDataKeys: generated.encryptedDataKeys)
        try expect(first.plaintextDataKey == dataKey, "onDecrypt did not recover the generated data key")
        let existing = SymmetricKey(size: .init(bitCount: suite.keyLength * 8))

        // 4. Refusals: materials that already hold a key; no decryptable key; tampered keys.
        var holding = fresh
        holding.plaintextDataKey = existing
        try await expectFailure("onDecrypt accepted materials that already hold a data key") {
            _ = try await keyring.onDecrypt(holding, encryptedDataKeys: generated.encryptedDataKeys)
        }
        try await expectFailure("onDecrypt succeeded without encrypted data keys") {
            _ = try await keyring.onDecrypt(fresh, encryptedDataKeys: [])
        }
        let tampered = generated.encryptedDataKeys.map { edk in
            var edk = edk
            edk.ciphertext[edk.ciphertext.count / 2] ^= 0x01
            return edk
        }
        try await expectFailure("onDecrypt accepted a tampered encrypted data key") {
            _ = try await keyring.onDecrypt(fresh, encryptedDataKeys: tampered)
        }
        if bindsEncryptionContext {
            var otherContext = context
            otherContext["purpose"] = "other"
            let moved = DecryptionMaterials(algorithmSuite: suite, encryptionContext: otherContext)
            try await expectFailure("onDecrypt ignored the encryption context") {
                _ = try await keyring.onDecrypt(moved, encryptedDataKeys: generated.encryptedDataKeys)
            }
        }
        if let foreignKeyring {
            let foreign = try await foreignKeyring.onEncrypt(
                EncryptionMaterials(algorithmSuite: suite, encryptionContext: context)
            )
            try await expectFailure("onDecrypt decrypted another keyring's encrypted data key") {
                _ = try await keyring.onDecrypt(fresh, encryptedDataKeys: foreign.encryptedDataKeys)
            }
            let mixed = try await keyring.onDecrypt(
                fresh,
                encryptedDataKeys: foreign.encryptedDataKeys + generated.encryptedDataKeys
            )
            try expect(mixed.plaintextDataKey == dataKey, "onDecrypt did not skip a foreign encrypted data key")
        }

        // 5. End to end through the client.
        let client = EncryptionClient()
        if suite.isCommitting {
            let plaintext = Array("contract plaintext".utf8)
            let message = try await client.encrypt(
                plaintext,
                keyring: keyring,
                encryptionContext: context,
                algorithmSuite: suite
            )
            let opened = try await client.decrypt(message.ciphertext, keyring: keyring)
            try expect(opened.plaintext == plaintext, "a message did not round-trip through the keyring")
        }
    }

    private func expect(_ condition: Bool, _ message: String) throws {
        if !condition { throw Violation(description: "\(keyring): \(message)") }
    }

    private func require<T>(_ value: T?, _ message: String) throws -> T {
        guard let value else { throw Violation(description: "\(keyring): \(message)") }
        return value
    }

    private func expectFailure(_ message: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            return
        }
        throw Violation(description: "\(keyring): \(message)")
    }
}
