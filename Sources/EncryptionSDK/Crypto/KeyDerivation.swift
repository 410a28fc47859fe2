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
    private static let commitKeyInfo = Array("COMMITKEY".utf8) + [1]

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
            // RFC 5869 with one HMAC per step: both outputs are 32 bytes, shorter than one SHA-512
            // block, so HKDF-Expand is the single block T(1) = HMAC(PRK, info ‖ 0x01), truncated.
            // Same bytes as swift-crypto's `HKDF<SHA512>` (the known-answer tests check), in a third
            // of the time: on the hot path of every seal and open.
            let prk = dataKey.withUnsafeBytes { key in
                messageID.withUnsafeBytes { salt in HMACSHA512(key: salt).authenticationCode(for: key) }
            }
            let expander = prk.withUnsafeBytes { HMACSHA512(key: $0) }
            var keyInfo = suiteID + deriveKeyLabel
            keyInfo.append(1)
            let key = keyInfo.withUnsafeBytes {
                SymmetricKey(data: expander.authenticationCode(for: $0).prefix(suite.keyLength))
            }
            let commitment = commitKeyInfo.withUnsafeBytes { Array(expander.authenticationCode(for: $0).prefix(32)) }
            return Keys(encryptionKey: key, commitment: commitment)
        }
    }
}

/// HMAC-SHA-512 (RFC 2104) for keys of at most one block, written against the concrete `SHA512`
/// hasher: swift-crypto's generic `HMAC<SHA512>` costs about 2.5 times as much per call here. The
/// keyed inner and outer states are computed once, so two codes under one key (HKDF-Expand of the
/// key and of the commitment) cost two compressions fewer. `SHA512` is a copy-on-write value.
struct HMACSHA512 {
    private let inner: SHA512
    private let outer: SHA512

    init(key: UnsafeRawBufferPointer) {
        precondition(key.count <= 128, "HMACSHA512 takes keys of at most one block")
        (inner, outer) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { pads in
            // The key, zero-padded to a block, then both pads a word at a time.
            let raw = UnsafeMutableRawBufferPointer(pads)
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            if let base = key.baseAddress, !key.isEmpty {
                raw.baseAddress!.copyMemory(from: base, byteCount: key.count)
            }
            defer { raw.initializeMemory(as: UInt8.self, repeating: 0) }
            for word in 0..<16 {
                let k = raw.loadUnaligned(fromByteOffset: 8 * word, as: UInt64.self)
                raw.storeBytes(of: k ^ 0x3636_3636_3636_3636, toByteOffset: 8 * word, as: UInt64.self)
                raw.storeBytes(of: k ^ 0x5C5C_5C5C_5C5C_5C5C, toByteOffset: 128 + 8 * word, as: UInt64.self)
            }
            var inner = SHA512()
            inner.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<128]))
            var outer = SHA512()
            outer.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[128..<256]))
            return (inner, outer)
        }
    }

    func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        var inner = self.inner
        inner.update(bufferPointer: message)
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes { Array($0) }
    }
}
