import SealedSupport

/// An ESDK algorithm suite: the AES-GCM key size, the key derivation, key commitment and signature.
///
/// Suite identifiers are an open set on the wire, so this is a struct with static members rather
/// than an enum (ESDK spec, `framework/algorithm-suites.md`). ``init(id:)`` returns `nil` for an ID
/// this implementation does not know.
public struct AlgorithmSuite: Hashable, Sendable, CustomStringConvertible {
    /// The key derivation applied to the data key.
    public enum KeyDerivation: Hashable, Sendable {
        /// The data key is the encryption key (legacy suites 0x00xx).
        case identity
        /// HKDF with SHA-256 (0x01xx, 0x0214).
        case hkdfSHA256
        /// HKDF with SHA-384 (0x0346, 0x0378).
        case hkdfSHA384
        /// HKDF-SHA-512 with the message ID as salt and a key commitment (0x0478, 0x0578).
        case hkdfSHA512Committing
    }

    /// The ECDSA curve a signed suite uses.
    public enum Signature: Hashable, Sendable {
        /// ECDSA P-256 with SHA-256.
        case ecdsaP256SHA256
        /// ECDSA P-384 with SHA-384.
        case ecdsaP384SHA384
    }

    /// The two-byte identifier written in the message header.
    public let id: UInt16
    /// Length in bytes of the data key and of the derived AES-GCM key.
    public let keyLength: Int
    public let keyDerivation: KeyDerivation
    public let signature: Signature?

    private init(id: UInt16, keyLength: Int, keyDerivation: KeyDerivation, signature: Signature? = nil) {
        self.id = id
        self.keyLength = keyLength
        self.keyDerivation = keyDerivation
        self.signature = signature
    }

    /// The message format version the suite requires: 1 for 0x00xx–0x03xx, 2 for 0x04xx–0x05xx.
    public var messageFormatVersion: UInt8 { keyDerivation == .hkdfSHA512Committing ? 2 : 1 }
    /// Whether the suite commits to its key (a message decrypts under only one data key).
    public var isCommitting: Bool { keyDerivation == .hkdfSHA512Committing }
    /// Whether the suite derives its encryption key from the data key (required for caching).
    public var hasKeyDerivation: Bool { keyDerivation != .identity }
    /// Length of the message ID: 16 bytes in format version 1, 32 in version 2.
    public var messageIDLength: Int { messageFormatVersion == 2 ? 32 : 16 }

    /// The suite's ID as it is usually written, e.g. `0x0578`.
    public var description: String { Self.hex(id) }

    /// `0x` and four lowercase hex digits.
    static func hex(_ id: UInt16) -> String {
        "0x" + Hex.encode([UInt8(id >> 8), UInt8(truncatingIfNeeded: id)])
    }

    /// AES-128-GCM, no key derivation (legacy).
    public static let aes128GCMNoKDF = AlgorithmSuite(id: 0x0014, keyLength: 16, keyDerivation: .identity)
    /// AES-192-GCM, no key derivation (legacy).
    public static let aes192GCMNoKDF = AlgorithmSuite(id: 0x0046, keyLength: 24, keyDerivation: .identity)
    /// AES-256-GCM, no key derivation (legacy).
    public static let aes256GCMNoKDF = AlgorithmSuite(id: 0x0078, keyLength: 32, keyDerivation: .identity)
    /// AES-128-GCM with HKDF-SHA-256.
    public static let aes128GCMHKDFSHA256 = AlgorithmSuite(id: 0x0114, keyLength: 16, keyDerivation: .hkdfSHA256)
    /// AES-192-GCM with HKDF-SHA-256.
    public static let aes192GCMHKDFSHA256 = AlgorithmSuite(id: 0x0146, keyLength: 24, keyDerivation: .hkdfSHA256)
    /// AES-256-GCM with HKDF-SHA-256.
    public static let aes256GCMHKDFSHA256 = AlgorithmSuite(id: 0x0178, keyLength: 32, keyDerivation: .hkdfSHA256)
    /// AES-128-GCM with HKDF-SHA-256 and ECDSA P-256.
    public static let aes128GCMHKDFSHA256ECDSAP256 = AlgorithmSuite(
        id: 0x0214,
        keyLength: 16,
        keyDerivation: .hkdfSHA256,
        signature: .ecdsaP256SHA256
    )
    /// AES-192-GCM with HKDF-SHA-384 and ECDSA P-384.
    public static let aes192GCMHKDFSHA384ECDSAP384 = AlgorithmSuite(
        id: 0x0346,
        keyLength: 24,
        keyDerivation: .hkdfSHA384,
        signature: .ecdsaP384SHA384
    )
    /// AES-256-GCM with HKDF-SHA-384 and ECDSA P-384.
    public static let aes256GCMHKDFSHA384ECDSAP384 = AlgorithmSuite(
        id: 0x0378,
        keyLength: 32,
        keyDerivation: .hkdfSHA384,
        signature: .ecdsaP384SHA384
    )
    /// AES-256-GCM with HKDF-SHA-512 and key commitment (0x0478): committing, unsigned.
    public static let aes256GCMHKDFSHA512Committing = AlgorithmSuite(
        id: 0x0478,
        keyLength: 32,
        keyDerivation: .hkdfSHA512Committing
    )
    /// AES-256-GCM with HKDF-SHA-512, key commitment and ECDSA P-384 (0x0578): the default.
    public static let aes256GCMHKDFSHA512CommittingECDSAP384 = AlgorithmSuite(
        id: 0x0578,
        keyLength: 32,
        keyDerivation: .hkdfSHA512Committing,
        signature: .ecdsaP384SHA384
    )

    /// Every suite this implementation decrypts, in ID order.
    public static let all: [AlgorithmSuite] = [
        .aes128GCMNoKDF, .aes192GCMNoKDF, .aes256GCMNoKDF,
        .aes128GCMHKDFSHA256, .aes192GCMHKDFSHA256, .aes256GCMHKDFSHA256,
        .aes128GCMHKDFSHA256ECDSAP256, .aes192GCMHKDFSHA384ECDSAP384, .aes256GCMHKDFSHA384ECDSAP384,
        .aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384,
    ]

    /// The suite with this wire ID, or `nil` if it is unknown (including reserved IDs).
    public init?(id: UInt16) {
        guard let suite = Self.all.first(where: { $0.id == id }) else { return nil }
        self = suite
    }

    /// Parses `0x0578`, `0578` or `1400` (decimal) into a suite.
    public init?(_ text: String) {
        let lower = text.lowercased()
        let value: UInt16?
        if lower.hasPrefix("0x") {
            value = UInt16(lower.dropFirst(2), radix: 16)
        } else if lower.count == 4, let hex = UInt16(lower, radix: 16) {
            value = hex
        } else {
            value = UInt16(lower)
        }
        guard let value, let suite = AlgorithmSuite(id: value) else { return nil }
        self = suite
    }
}

/// Which algorithm suites a client may encrypt with and decrypt (ESDK spec, `commitment-policy.md`).
public struct CommitmentPolicy: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable {
        case forbidEncryptAllowDecrypt, requireEncryptAllowDecrypt, requireEncryptRequireDecrypt
    }
    private let kind: Kind

    /// Encrypt with non-committing (v1) suites only; decrypt anything. A migration step.
    public static let forbidEncryptAllowDecrypt = CommitmentPolicy(kind: .forbidEncryptAllowDecrypt)
    /// Encrypt with committing suites only; decrypt anything.
    public static let requireEncryptAllowDecrypt = CommitmentPolicy(kind: .requireEncryptAllowDecrypt)
    /// Encrypt and decrypt committing suites only. The default.
    public static let requireEncryptRequireDecrypt = CommitmentPolicy(kind: .requireEncryptRequireDecrypt)

    /// The suite used when the caller names none.
    public var defaultSuite: AlgorithmSuite {
        kind == .forbidEncryptAllowDecrypt ? .aes256GCMHKDFSHA384ECDSAP384 : .aes256GCMHKDFSHA512CommittingECDSAP384
    }

    /// Whether a message may be encrypted with `suite` under this policy.
    public func allowsEncrypt(_ suite: AlgorithmSuite) -> Bool {
        kind == .forbidEncryptAllowDecrypt ? !suite.isCommitting : suite.isCommitting
    }

    /// Whether a message of `suite` may be decrypted under this policy.
    public func allowsDecrypt(_ suite: AlgorithmSuite) -> Bool {
        kind != .requireEncryptRequireDecrypt || suite.isCommitting
    }

    /// One byte naming the policy, for cache keys.
    var wireTag: UInt8 {
        switch kind {
        case .forbidEncryptAllowDecrypt: 1
        case .requireEncryptAllowDecrypt: 2
        case .requireEncryptRequireDecrypt: 3
        }
    }

    public var description: String {
        switch kind {
        case .forbidEncryptAllowDecrypt: "forbid-encrypt-allow-decrypt"
        case .requireEncryptAllowDecrypt: "require-encrypt-allow-decrypt"
        case .requireEncryptRequireDecrypt: "require-encrypt-require-decrypt"
        }
    }

    func checkEncrypt(_ suite: AlgorithmSuite) throws(EncryptionSDKError) {
        guard allowsEncrypt(suite) else {
            throw EncryptionSDKError(.commitmentPolicyViolation, "suite \(suite) may not encrypt under \(self)")
        }
    }

    func checkDecrypt(_ suite: AlgorithmSuite) throws(EncryptionSDKError) {
        guard allowsDecrypt(suite) else {
            throw EncryptionSDKError(.commitmentPolicyViolation, "suite \(suite) may not be decrypted under \(self)")
        }
    }
}
