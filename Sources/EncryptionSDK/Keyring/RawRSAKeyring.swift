internal import Crypto
internal import CryptoExtras
internal import Foundation
internal import SealedSupport

/// Wraps data keys with an RSA key pair the caller holds (ESDK spec `framework/raw-rsa-keyring.md`).
///
/// With only a public key it can encrypt; with only a private key it can decrypt. RSA-wrapped data
/// keys carry no binding to the encryption context (the header tag still authenticates it).
///
/// Padding: PKCS#1 v1.5, OAEP-SHA1 and OAEP-SHA256 both ways. OAEP with SHA-384 or SHA-512 is
/// decrypt-only: swift-crypto exposes no OAEP encryption with those hashes, so wrapping with them
/// throws ``EncryptionSDKError/Code/unsupported``; unwrapping uses the library's raw private-key
/// operation and decodes OAEP here (RFC 8017 § 7.1.2).
public struct RawRSAKeyring: Keyring, CustomStringConvertible {
    /// RSA encryption padding schemes of the ESDK.
    public enum Padding: String, Sendable, CaseIterable {
        case pkcs1 = "pkcs1"
        case oaepSHA1 = "oaep-sha1"
        case oaepSHA256 = "oaep-sha256"
        case oaepSHA384 = "oaep-sha384"
        case oaepSHA512 = "oaep-sha512"
    }

    public let keyNamespace: String
    public let keyName: String
    public let padding: Padding
    private let keys: Keys

    /// swift-crypto's RSA encryption keys are not marked `Sendable`, but they are immutable wrappers
    /// of BoringSSL `EVP_PKEY` objects, which BoringSSL documents as safe to use from several threads
    /// once constructed; nothing here mutates them. Hence `@unchecked Sendable`.
    private struct Keys: @unchecked Sendable {
        let publicKey: _RSA.Encryption.PublicKey?
        let privateKey: _RSA.Encryption.PrivateKey?
        /// The same private key, for the raw RSA operation behind OAEP-SHA384/512 unwrapping.
        let rawPrivateKey: _RSA.BlindSigning.PrivateKey<SHA384>?
    }

    /// - Parameters:
    ///   - publicKeyPEM: PEM of the public key (needed to encrypt; derived from the private key if absent).
    ///   - privateKeyPEM: PEM of the private key (needed to decrypt).
    /// - Throws: ``EncryptionSDKError`` `invalidArgument` when neither key is given or one does not parse.
    public init(
        keyNamespace: String,
        keyName: String,
        padding: Padding,
        publicKeyPEM: String? = nil,
        privateKeyPEM: String? = nil
    ) throws(EncryptionSDKError) {
        guard publicKeyPEM != nil || privateKeyPEM != nil else {
            throw .invalidArgument("a raw RSA keyring needs a public key, a private key or both")
        }
        guard !keyNamespace.hasPrefix("aws-kms") else {
            throw .invalidArgument("the key namespace \"aws-kms\" is reserved for AWS KMS")
        }
        do {
            let privateKey = try privateKeyPEM.map { try _RSA.Encryption.PrivateKey(pemRepresentation: $0) }
            self.keys = Keys(
                publicKey: try publicKeyPEM.map { try _RSA.Encryption.PublicKey(pemRepresentation: $0) }
                    ?? privateKey?.publicKey,
                privateKey: privateKey,
                rawPrivateKey: try privateKeyPEM.map { try _RSA.BlindSigning.PrivateKey<SHA384>(pemRepresentation: $0) }
            )
        } catch {
            throw .invalidArgument("an RSA key does not parse as PEM of 2048 bits or more")
        }
        self.keyNamespace = keyNamespace
        self.keyName = keyName
        self.padding = padding
    }

    public var description: String { "RawRSAKeyring(\(keyNamespace)/\(keyName), \(padding.rawValue))" }

    public func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        guard let publicKey = keys.publicKey else {
            throw EncryptionSDKError.invalidArgument("this RSA keyring has no public key to encrypt with")
        }
        let libraryPadding: _RSA.Encryption.Padding
        switch padding {
        case .pkcs1: libraryPadding = ._WEAK_AND_INSECURE_PKCS_V1_5
        case .oaepSHA1: libraryPadding = .PKCS1_OAEP
        case .oaepSHA256: libraryPadding = .PKCS1_OAEP_SHA256
        case .oaepSHA384, .oaepSHA512:
            throw EncryptionSDKError(
                .unsupported,
                "swift-crypto cannot encrypt with RSA \(padding.rawValue); use oaep-sha256 (decrypting \(padding.rawValue) works)"
            )
        }
        var materials = materials
        let dataKey =
            materials.plaintextDataKey ?? SymmetricKey(size: .init(bitCount: materials.algorithmSuite.keyLength * 8))
        let wrapped = try dataKey.withUnsafeBytes { try publicKey.encrypt($0, padding: libraryPadding) }
        materials.plaintextDataKey = dataKey
        materials.encryptedDataKeys.append(
            EncryptedDataKey(providerID: keyNamespace, providerInfo: Array(keyName.utf8), ciphertext: Array(wrapped))
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
        guard let privateKey = keys.privateKey, let rawPrivateKey = keys.rawPrivateKey else {
            throw EncryptionSDKError.noDecryptableKey("this RSA keyring has no private key to decrypt with")
        }
        let name = Array(keyName.utf8)
        for edk in encryptedDataKeys where edk.providerID.hasSameUTF8(as: keyNamespace) && edk.providerInfo == name {
            let key: [UInt8]?
            switch padding {
            case .pkcs1: key = try? Array(privateKey.decrypt(edk.ciphertext, padding: ._WEAK_AND_INSECURE_PKCS_V1_5))
            case .oaepSHA1: key = try? Array(privateKey.decrypt(edk.ciphertext, padding: .PKCS1_OAEP))
            case .oaepSHA256: key = try? Array(privateKey.decrypt(edk.ciphertext, padding: .PKCS1_OAEP_SHA256))
            case .oaepSHA384: key = OAEP.decrypt(edk.ciphertext, with: rawPrivateKey, hash: SHA384.self)
            case .oaepSHA512: key = OAEP.decrypt(edk.ciphertext, with: rawPrivateKey, hash: SHA512.self)
            }
            guard let key, key.count == materials.algorithmSuite.keyLength else { continue }
            var materials = materials
            materials.plaintextDataKey = SymmetricKey(data: key)
            return materials
        }
        throw EncryptionSDKError.noDecryptableKey("no encrypted data key unwraps with \(keyNamespace)/\(keyName)")
    }
}

/// RSAES-OAEP decoding with an empty label and MGF1 over the same hash (RFC 8017 § 7.1.2), on top of
/// the raw private-key operation `m = c^d mod n` that swift-crypto offers for RSA blind signatures
/// (BoringSSL `RSA_sign_raw`, blinded and constant time). Every failure returns `nil` alike.
enum OAEP {
    static func decrypt<H: HashFunction>(
        _ ciphertext: [UInt8],
        with key: _RSA.BlindSigning.PrivateKey<SHA384>,
        hash: H.Type
    ) -> [UInt8]? {
        guard let encoded = try? key.blindSignature(for: ciphertext) else { return nil }
        let em = encoded.withUnsafeBytes { Array($0) }
        let hLen = H.Digest.byteCount
        let k = em.count
        guard k == ciphertext.count, k >= 2 * hLen + 2 else { return nil }
        let maskedSeed = em[1...hLen]
        let maskedDB = em[(hLen + 1)...]
        let seedMask = mgf1(seed: maskedDB, length: hLen, hash: H.self)
        let seed = zip(maskedSeed, seedMask).map { $0 ^ $1 }
        let dbMask = mgf1(seed: seed, length: k - hLen - 1, hash: H.self)
        let db = zip(maskedDB, dbMask).map { $0 ^ $1 }
        let labelHash = Array(H.hash(data: [UInt8]()))

        // Constant-time scan: lHash, zero padding, the 0x01 separator.
        var bad: UInt8 = em[0]
        for i in 0..<hLen { bad |= db[i] ^ labelHash[i] }
        var separatorIndex = 0
        var found: UInt8 = 0
        for i in hLen..<db.count {
            let isOne: UInt8 = db[i] == 1 ? 1 : 0
            let isZero: UInt8 = db[i] == 0 ? 1 : 0
            let firstOne = isOne & (found ^ 1)
            separatorIndex |= Int(firstOne) * i
            found |= isOne
            bad |= (found ^ 1) & (isZero ^ 1)  // a non-zero, non-one byte before the separator
        }
        guard bad == 0, found == 1 else { return nil }
        return Array(db[(separatorIndex + 1)...])
    }

    private static func mgf1<H: HashFunction>(seed: some Collection<UInt8>, length: Int, hash: H.Type) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(length + H.Digest.byteCount)
        var counter: UInt32 = 0
        let seedBytes = Array(seed)
        while out.count < length {
            var hasher = H()
            hasher.update(data: seedBytes)
            var c: [UInt8] = []
            c.appendU32(counter)
            hasher.update(data: c)
            out.append(contentsOf: hasher.finalize())
            counter += 1
        }
        return Array(out.prefix(length))
    }
}
