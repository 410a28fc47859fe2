internal import Crypto

/// Derives the message's AES-GCM key (and, for committing suites, its commitment) from the data key.
///
/// ESDK spec `framework/algorithm-suites.md#key-derivation-algorithm` and
/// `transitive-requirements.md`: v1 HKDF suites use `info = suiteID ‖ messageID` with no salt;
/// committing suites extract with the message ID as salt and expand twice, `suiteID ‖ "DERIVEKEY"`
/// for the key and `"COMMITKEY"` for the 32-byte commitment.
enum KeyDerivation {
    struct Keys {
        let encryptionKey: SymmetricKey
        /// Empty unless the suite commits.
        let commitment: [UInt8]
    }

    private static let deriveKeyLabel = Array("DERIVEKEY".utf8)
    private static let commitKeyLabel = Array("COMMITKEY".utf8)

    static func derive(dataKey: SymmetricKey, suite: AlgorithmSuite, messageID: [UInt8]) -> Keys {
        var suiteID: [UInt8] = []
        suiteID.appendU16(suite.id)
        switch suite.keyDerivation {
        case .identity:
            return Keys(encryptionKey: dataKey, commitment: [])
        case .hkdfSHA256:
            let key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: dataKey,
                info: suiteID + messageID,
                outputByteCount: suite.keyLength
            )
            return Keys(encryptionKey: key, commitment: [])
        case .hkdfSHA384:
            let key = HKDF<SHA384>.deriveKey(
                inputKeyMaterial: dataKey,
                info: suiteID + messageID,
                outputByteCount: suite.keyLength
            )
            return Keys(encryptionKey: key, commitment: [])
        case .hkdfSHA512Committing:
            let prk = HKDF<SHA512>.extract(inputKeyMaterial: dataKey, salt: messageID)
            let key = HKDF<SHA512>.expand(
                pseudoRandomKey: prk,
                info: suiteID + deriveKeyLabel,
                outputByteCount: suite.keyLength
            )
            let commitment = HKDF<SHA512>.expand(pseudoRandomKey: prk, info: commitKeyLabel, outputByteCount: 32)
            return Keys(encryptionKey: key, commitment: commitment.withUnsafeBytes { Array($0) })
        }
    }
}
