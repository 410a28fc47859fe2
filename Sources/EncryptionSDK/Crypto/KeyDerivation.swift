internal import Foundation  // ContiguousBytes of a generic digest
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

    /// The key's label and the commitment's info, each with T(1)'s counter byte 0x01.
    private static let deriveKeyLabel: StaticString = "DERIVEKEY\u{01}"
    private static let commitKeyInfo: StaticString = "COMMITKEY\u{01}"

    static func derive(dataKey: SymmetricKey, suite: AlgorithmSuite, messageID: [UInt8]) -> Keys {
        switch suite.keyDerivation {
        case .identity:
            return Keys(encryptionKey: dataKey, commitment: [])
        case .hkdfSHA256:
            var suiteID: [UInt8] = []
            suiteID.appendU16(suite.id)
            let key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: dataKey,
                info: suiteID + messageID,
                outputByteCount: suite.keyLength
            )
            return Keys(encryptionKey: key, commitment: [])
        case .hkdfSHA384:
            var suiteID: [UInt8] = []
            suiteID.appendU16(suite.id)
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
            //
            // Each HMAC writes into a buffer of ours, and the last code under a key finishes its keyed states
            // instead of copies of them: a copy of a `SHA512` allocates a new digest context (measured: about a
            // third of the derivation's cost besides the compressions went to copies and `[UInt8]` results).
            var commitment: [UInt8] = []
            let key = withUnsafeTemporaryAllocation(byteCount: 3 * 64 + 16, alignment: 8) { scratch in
                defer { scratch.initializeMemory(as: UInt8.self, repeating: 0) }
                let prk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<64])
                let okm = UnsafeMutableRawBufferPointer(rebasing: scratch[64..<128])
                let commitCode = UnsafeMutableRawBufferPointer(rebasing: scratch[128..<192])
                dataKey.withUnsafeBytes { ikm in
                    messageID.withUnsafeBytes { salt in HMACSHA512(key: salt).finalCode(for: ikm, into: prk) }
                }
                // No closure captures the expander, so its last code can take its states over.
                let expander = HMACSHA512(key: UnsafeRawBufferPointer(prk))
                let keyInfo = UnsafeMutableRawBufferPointer(rebasing: scratch[192..<(194 + deriveKeyLabel.bytes.count)])
                keyInfo.storeBytes(of: UInt8(truncatingIfNeeded: suite.id >> 8), toByteOffset: 0, as: UInt8.self)
                keyInfo.storeBytes(of: UInt8(truncatingIfNeeded: suite.id), toByteOffset: 1, as: UInt8.self)
                UnsafeMutableRawBufferPointer(rebasing: keyInfo[2...]).copyMemory(from: deriveKeyLabel.bytes)
                expander.code(for: UnsafeRawBufferPointer(keyInfo), into: okm)
                (consume expander).finalCode(for: commitKeyInfo.bytes, into: commitCode)
                commitment = Array(commitCode[0..<32])
                return SymmetricKey(data: UnsafeRawBufferPointer(rebasing: okm[0..<suite.keyLength]))
            }
            return Keys(encryptionKey: key, commitment: commitment)
        }
    }
}

/// HMAC (RFC 2104) for keys of at most one block, written against a concrete hasher (`SHA512` for the ESDK's key
/// derivation, `SHA256` for the hierarchical keyring's): swift-crypto's generic `HMAC<SHA512>` costs about 2.5 times
/// as much per call here. The keyed inner and outer states are computed once, so further codes under one key (HKDF-
/// Expand of the key and of the commitment; every data key a cached branch key wraps) cost two compressions fewer.
/// The hashers are copy-on-write values.
struct KeyedHMAC<Hash: HashFunction> {
    private var inner: Hash
    private var outer: Hash

    init(key: UnsafeRawBufferPointer) {
        let block = Hash.blockByteCount
        precondition(key.count <= block, "KeyedHMAC takes keys of at most one block")
        (inner, outer) = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * block) { pads in
            // The key, zero-padded to a block, then both pads a word at a time.
            let raw = UnsafeMutableRawBufferPointer(pads)
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            if let base = key.baseAddress, !key.isEmpty {
                raw.baseAddress!.copyMemory(from: base, byteCount: key.count)
            }
            defer { raw.initializeMemory(as: UInt8.self, repeating: 0) }
            for word in 0..<(block / 8) {
                let k = raw.loadUnaligned(fromByteOffset: 8 * word, as: UInt64.self)
                raw.storeBytes(of: k ^ 0x3636_3636_3636_3636, toByteOffset: 8 * word, as: UInt64.self)
                raw.storeBytes(of: k ^ 0x5C5C_5C5C_5C5C_5C5C, toByteOffset: block + 8 * word, as: UInt64.self)
            }
            var inner = Hash()
            inner.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<block]))
            var outer = Hash()
            outer.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[block..<(2 * block)]))
            return (inner, outer)
        }
    }

    /// The code of `message`, truncated to `output.count` (at most the digest's length) bytes; the keyed states stay
    /// as they are for further codes, so this costs two state copies.
    func code(for message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        var copy = self
        copy.finish(message, into: output)
    }

    /// As ``code(for:into:)``, for the last code under this key: finishes the keyed states themselves, without
    /// copying them (when the caller hands over its only copy, as a temporary or a last use does).
    consuming func finalCode(for message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        finish(message, into: output)
    }

    private mutating func finish(_ message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count <= Hash.Digest.byteCount, "an HMAC code is at most one digest long")
        inner.update(bufferPointer: message)
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        outer.finalize().withUnsafeBytes {
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<output.count]))
        }
    }
}

/// HMAC-SHA-512 of the ESDK's committing key derivation.
typealias HMACSHA512 = KeyedHMAC<SHA512>

extension StaticString {
    /// The string's UTF-8 bytes, without a closure.
    fileprivate var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: utf8Start, count: utf8CodeUnitCount) }
}
