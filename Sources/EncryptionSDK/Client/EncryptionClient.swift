public import Foundation
import SealedSupport

/// Encrypts and decrypts ESDK messages, byte-compatible with the official AWS Encryption SDKs.
///
/// ```swift
/// let keyring = try RawAESKeyring(keyNamespace: "ns", keyName: "key", wrappingKey: key)
/// let client = EncryptionClient()
/// let message = try await client.encrypt(plaintext, keyring: keyring, encryptionContext: ["tenant": "a"])
/// let opened = try await client.decrypt(message.ciphertext, keyring: keyring)
/// ```
///
/// One-shot calls return plaintext only after every check passed, the signature included. For large
/// payloads use ``encryptStream(_:materialsManager:encryptionContext:algorithmSuite:frameLength:plaintextLength:)``
/// and ``decryptStream(_:materialsManager:encryptionContext:mode:bufferLimit:)``.
public struct EncryptionClient: Sendable {
    /// Which suites this client encrypts with and accepts. Default: require / require.
    public var commitmentPolicy: CommitmentPolicy
    /// The most encrypted data keys a message may carry, checked while parsing, before any unwrap
    /// (and on encrypt). `nil`: the format's limit of 65 535.
    public var maxEncryptedDataKeys: Int?

    public static let defaultFrameLength = 4096

    public init(commitmentPolicy: CommitmentPolicy = .requireEncryptRequireDecrypt, maxEncryptedDataKeys: Int? = nil) {
        self.commitmentPolicy = commitmentPolicy
        self.maxEncryptedDataKeys = maxEncryptedDataKeys
    }

    // MARK: One-shot

    /// Encrypts `plaintext` into one message.
    ///
    /// - Parameters:
    ///   - encryptionContext: non-secret pairs bound to the message; keys must not start with `aws-crypto-`.
    ///   - algorithmSuite: `nil` for the policy's default (0x0578 under the default policy).
    ///   - frameLength: plaintext bytes per frame, 1 through 2^32 − 1.
    /// - Throws: ``EncryptionSDKError``, or what the materials manager's keyrings throw.
    public func encrypt(
        _ plaintext: [UInt8],
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext = [:],
        algorithmSuite: AlgorithmSuite? = nil,
        frameLength: Int = defaultFrameLength
    ) async throws -> EncryptedMessage {
        var encoder = try await makeEncoder(
            materialsManager: materialsManager,
            encryptionContext: encryptionContext,
            algorithmSuite: algorithmSuite,
            frameLength: frameLength,
            plaintextLength: plaintext.count
        )
        var out: [UInt8] = []
        out.reserveCapacity(encoder.estimatedLength(plaintextLength: plaintext.count))
        encoder.writeHeader(to: &out)
        try plaintext.withUnsafeBytes { bytes in try encoder.writeBody(bytes, to: &out) }
        return EncryptedMessage(ciphertext: out, header: encoder.header)
    }

    /// Encrypts with the default materials manager over `keyring`.
    public func encrypt(
        _ plaintext: [UInt8],
        keyring: any Keyring,
        encryptionContext: EncryptionContext = [:],
        algorithmSuite: AlgorithmSuite? = nil,
        frameLength: Int = defaultFrameLength
    ) async throws -> EncryptedMessage {
        try await encrypt(
            plaintext,
            materialsManager: DefaultMaterialsManager(keyring: keyring),
            encryptionContext: encryptionContext,
            algorithmSuite: algorithmSuite,
            frameLength: frameLength
        )
    }

    /// Decrypts one message; returns its plaintext only after the whole message, footer included,
    /// authenticated.
    ///
    /// - Parameter encryptionContext: the reproduced context: pairs the stored context must hold with
    ///   the same values, or that were kept out of the message by a required-encryption-context CMM.
    /// - Throws: ``EncryptionSDKError`` (``EncryptionSDKError/Code/authenticationFailure`` for any
    ///   tampering), or what the keyrings throw.
    public func decrypt(
        _ message: [UInt8],
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext = [:]
    ) async throws -> DecryptedMessage {
        let parsed = try message.withUnsafeBytes { bytes in
            try MessageHeader.parse(bytes, maxEncryptedDataKeys: maxEncryptedDataKeys)
        }
        guard let (header, headerLength) = parsed else {
            throw EncryptionSDKError.malformed("the message ends inside its header")
        }
        return try await decrypt(
            message,
            header: header,
            headerLength: headerLength,
            materialsManager: materialsManager,
            encryptionContext: encryptionContext
        )
    }

    /// Decrypts one message whose header the caller already parsed from `message` (with
    /// ``MessageHeader/init(parsing:maxEncryptedDataKeys:)``), so that it is not parsed twice; otherwise as
    /// ``decrypt(_:materialsManager:encryptionContext:)``.
    ///
    /// A header that is not `message`'s fails as tampering does: the header's authentication tag and the
    /// frames are checked against the bytes of `message` that follow the header's length.
    package func decrypt(
        _ message: [UInt8],
        header: MessageHeader,
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext = [:]
    ) async throws -> DecryptedMessage {
        if let maxEncryptedDataKeys, header.encryptedDataKeys.count > maxEncryptedDataKeys {
            throw EncryptionSDKError(
                .tooManyEncryptedDataKeys,
                "the message has \(header.encryptedDataKeys.count) encrypted data keys, more than the maximum of \(maxEncryptedDataKeys)"
            )
        }
        guard header.length <= message.count else {
            throw EncryptionSDKError.malformed("the message ends inside its header")
        }
        return try await decrypt(
            message,
            header: header,
            headerLength: header.length,
            materialsManager: materialsManager,
            encryptionContext: encryptionContext
        )
    }

    private func decrypt(
        _ message: [UInt8],
        header: MessageHeader,
        headerLength: Int,
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext
    ) async throws -> DecryptedMessage {
        var decoder = try await makeDecoder(
            header: header,
            materialsManager: materialsManager,
            encryptionContext: encryptionContext,
            bufferLimit: nil
        )
        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(max(0, message.count - headerLength))
        let consumed = try message.withUnsafeBytes { bytes in
            try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[headerLength...]), into: &plaintext)
        }
        guard decoder.isComplete, headerLength + consumed == message.count else {
            throw EncryptionSDKError.authenticationFailure
        }
        return DecryptedMessage(plaintext: plaintext, header: header)
    }

    /// Decrypts with the default materials manager over `keyring`.
    public func decrypt(
        _ message: [UInt8],
        keyring: any Keyring,
        encryptionContext: EncryptionContext = [:]
    ) async throws -> DecryptedMessage {
        try await decrypt(
            message,
            materialsManager: DefaultMaterialsManager(keyring: keyring),
            encryptionContext: encryptionContext
        )
    }

    /// Encrypts `Data`; see ``encrypt(_:materialsManager:encryptionContext:algorithmSuite:frameLength:)``.
    public func encrypt(
        _ plaintext: Data,
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext = [:],
        algorithmSuite: AlgorithmSuite? = nil,
        frameLength: Int = defaultFrameLength
    ) async throws -> Data {
        Data(
            try await encrypt(
                [UInt8](plaintext),
                materialsManager: materialsManager,
                encryptionContext: encryptionContext,
                algorithmSuite: algorithmSuite,
                frameLength: frameLength
            ).ciphertext
        )
    }

    /// Decrypts `Data`; see ``decrypt(_:materialsManager:encryptionContext:)``.
    public func decrypt(
        _ message: Data,
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext = [:]
    ) async throws -> Data {
        Data(
            try await decrypt(
                [UInt8](message),
                materialsManager: materialsManager,
                encryptionContext: encryptionContext
            ).plaintext
        )
    }

    // MARK: Shared steps

    func makeEncoder(
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext,
        algorithmSuite: AlgorithmSuite?,
        frameLength: Int,
        plaintextLength: Int?
    ) async throws -> MessageEncoder {
        guard (1...Int(UInt32.max)).contains(frameLength) else {
            throw EncryptionSDKError.invalidArgument(
                "the frame length must be between 1 and 2^32 - 1, not \(frameLength)"
            )
        }
        try ContextCoding.checkCallerContext(encryptionContext)
        if let algorithmSuite { try commitmentPolicy.checkEncrypt(algorithmSuite) }
        let materials = try await materialsManager.encryptionMaterials(
            for: EncryptionMaterialsRequest(
                encryptionContext: encryptionContext,
                algorithmSuite: algorithmSuite,
                commitmentPolicy: commitmentPolicy,
                maxPlaintextLength: plaintextLength
            )
        )
        // ESDK spec `client-apis/encrypt.md#get-the-encryption-materials`: check what the CMM returned.
        try commitmentPolicy.checkEncrypt(materials.algorithmSuite)
        if let algorithmSuite, materials.algorithmSuite != algorithmSuite {
            throw EncryptionSDKError.invalidMaterials("the materials manager chose another algorithm suite")
        }
        try materials.validate()
        if let maxEncryptedDataKeys, materials.encryptedDataKeys.count > maxEncryptedDataKeys {
            throw EncryptionSDKError(
                .tooManyEncryptedDataKeys,
                "the keyrings made \(materials.encryptedDataKeys.count) encrypted data keys, more than \(maxEncryptedDataKeys)"
            )
        }
        for (key, value) in encryptionContext
        where !(materials.encryptionContext[key].map { $0.hasSameUTF8(as: value) } ?? false) {
            throw EncryptionSDKError.invalidMaterials("the materials manager changed encryption context key \"\(key)\"")
        }
        return try MessageEncoder(materials: materials, frameLength: frameLength)
    }

    func makeDecoder(
        header: MessageHeader,
        materialsManager: some CryptographicMaterialsManager,
        encryptionContext: EncryptionContext,
        bufferLimit: Int?
    ) async throws -> MessageDecoder {
        try commitmentPolicy.checkDecrypt(header.algorithmSuite)
        let materials = try await materialsManager.decryptionMaterials(
            for: DecryptionMaterialsRequest(
                algorithmSuite: header.algorithmSuite,
                commitmentPolicy: commitmentPolicy,
                encryptedDataKeys: header.encryptedDataKeys,
                encryptionContext: header.encryptionContext,
                reproducedEncryptionContext: encryptionContext
            )
        )
        try materials.validate()
        // ESDK spec `client-apis/decrypt.md`: the reproduced context must agree with the materials'.
        for (key, value) in encryptionContext
        where !(materials.encryptionContext[key].map { $0.hasSameUTF8(as: value) } ?? false) {
            throw EncryptionSDKError.invalidContext("the reproduced encryption context disagrees on key \"\(key)\"")
        }
        return try MessageDecoder(header: header, materials: materials, bufferLimit: bufferLimit)
    }
}

/// An encrypted message and its header.
public struct EncryptedMessage: Sendable {
    public let ciphertext: [UInt8]
    public let header: MessageHeader
}

/// A decrypted plaintext and the header of the message it came from.
public struct DecryptedMessage: Sendable {
    public let plaintext: [UInt8]
    public let header: MessageHeader
}
