import SealedSupport

/// The parsed header of an ESDK message (ESDK spec `data-format/message-header.md`).
public struct MessageHeader: Sendable {
    /// How the body is laid out.
    public enum ContentType: UInt8, Sendable {
        /// One AES-GCM block for the whole plaintext (decrypt only).
        case nonFramed = 0x01
        /// A sequence of frames of ``MessageHeader/frameLength`` bytes each.
        case framed = 0x02
    }

    /// Message format version: 1 or 2.
    public let version: UInt8
    public let algorithmSuite: AlgorithmSuite
    /// 16 (v1) or 32 (v2) random bytes naming the message; the key-derivation salt.
    public let messageID: [UInt8]
    /// The encryption context stored in the header (without authenticate-only pairs).
    public let encryptionContext: EncryptionContext
    public let encryptedDataKeys: [EncryptedDataKey]
    public let contentType: ContentType
    /// Plaintext bytes per frame (0 for non-framed bodies).
    public let frameLength: UInt32
    /// v2: the 32-byte commitment key. Empty in v1.
    let commitment: [UInt8]
    /// The header-authentication IV: stored in v1, twelve zero bytes in v2.
    let authenticationIV: [UInt8]
    let authenticationTag: [UInt8]
    /// The header body exactly as written, which the authentication tag covers.
    let body: [UInt8]

    /// The serialized header: body and authentication.
    /// The number of bytes the serialized header takes.
    var length: Int { body.count + (version == 1 ? authenticationIV.count : 0) + authenticationTag.count }

    public var serialized: [UInt8] {
        version == 1 ? body + authenticationIV + authenticationTag : body + authenticationTag
    }

    static let v1Type: UInt8 = 0x80
    static let ivLength = 12
    static let tagLength = 16
    /// The header-authentication IV of format version 2, shared rather than allocated per message.
    static let zeroIV = [UInt8](repeating: 0, count: ivLength)

    /// Builds the header body for a new message; the caller computes the tag.
    static func makeBody(
        suite: AlgorithmSuite,
        messageID: [UInt8],
        serializedContext: [UInt8],
        encryptedDataKeys: [EncryptedDataKey],
        frameLength: UInt32,
        commitment: [UInt8]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(80 + serializedContext.count + encryptedDataKeys.reduce(0) { $0 + $1.serializedLength })
        if suite.messageFormatVersion == 2 {
            out.append(2)
            out.appendU16(suite.id)
            out.append(contentsOf: messageID)
        } else {
            out.append(1)
            out.append(v1Type)
            out.appendU16(suite.id)
            out.append(contentsOf: messageID)
        }
        out.appendU16(UInt16(serializedContext.count))
        out.append(contentsOf: serializedContext)
        out.appendU16(UInt16(encryptedDataKeys.count))
        for edk in encryptedDataKeys { edk.appendSerialized(to: &out) }
        out.append(ContentType.framed.rawValue)
        if suite.messageFormatVersion == 2 {
            out.appendU32(frameLength)
            out.append(contentsOf: commitment)
        } else {
            out.appendU32(0)  // reserved
            out.append(UInt8(ivLength))
            out.appendU32(frameLength)
        }
        return out
    }

    /// Parses a header from the start of `bytes`.
    ///
    /// - Returns: the header and the number of bytes it took, or `nil` if `bytes` ends before the
    ///   header does (a streaming reader then waits for more input).
    /// - Throws: ``EncryptionSDKError`` `malformedMessage` or `tooManyEncryptedDataKeys`.
    static func parse(
        _ bytes: UnsafeRawBufferPointer,
        maxEncryptedDataKeys: Int?
    ) throws(EncryptionSDKError) -> (header: MessageHeader, length: Int)? {
        var reader = ByteReader(bytes)
        do {
            return try parse(&reader, maxEncryptedDataKeys: maxEncryptedDataKeys)
        } catch is ByteReader.Truncated {
            return nil
        } catch let error as EncryptionSDKError {
            throw error
        } catch {
            throw .malformed("unreadable header")
        }
    }

    private static func parse(
        _ reader: inout ByteReader,
        maxEncryptedDataKeys: Int?
    ) throws -> (header: MessageHeader, length: Int) {
        let version = try reader.u8()
        guard version == 1 || version == 2 else {
            throw EncryptionSDKError.malformed("unknown message format version \(version)")
        }
        if version == 1 {
            guard try reader.u8() == v1Type else { throw EncryptionSDKError.malformed("unknown v1 message type") }
        }
        let suiteID = try reader.u16()
        guard let suite = AlgorithmSuite(id: suiteID) else {
            throw EncryptionSDKError.malformed("unknown algorithm suite \(AlgorithmSuite.hex(suiteID))")
        }
        guard suite.messageFormatVersion == version else {
            throw EncryptionSDKError.malformed("suite \(suite) does not belong to message format version \(version)")
        }
        let messageID = try reader.bytes(suite.messageIDLength)
        let contextLength = Int(try reader.u16())
        let context = try ContextCoding.parseHeaderAAD(try reader.view(contextLength))

        let edkCount = Int(try reader.u16())
        guard edkCount > 0 else { throw EncryptionSDKError.malformed("no encrypted data keys") }
        if let maxEncryptedDataKeys, edkCount > maxEncryptedDataKeys {
            throw EncryptionSDKError(
                .tooManyEncryptedDataKeys,
                "the message has \(edkCount) encrypted data keys, more than the maximum of \(maxEncryptedDataKeys)"
            )
        }
        var edks: [EncryptedDataKey] = []
        edks.reserveCapacity(min(edkCount, 16))
        for _ in 0..<edkCount {
            guard let provider = try reader.u16Prefixed().withUnsafeBytes(validUTF8String) else {
                throw EncryptionSDKError.malformed("provider ID is not valid UTF-8")
            }
            let info = try reader.u16Prefixed()
            let ciphertext = try reader.u16Prefixed()
            edks.append(EncryptedDataKey(providerID: provider, providerInfo: info, ciphertext: ciphertext))
        }
        guard let contentType = ContentType(rawValue: try reader.u8()) else {
            throw EncryptionSDKError.malformed("unknown content type")
        }
        let commitment: [UInt8]
        let frameLength: UInt32
        if version == 1 {
            guard try reader.u32() == 0 else { throw EncryptionSDKError.malformed("reserved header field is not zero") }
            guard try reader.u8() == UInt8(ivLength) else { throw EncryptionSDKError.malformed("IV length is not 12") }
            frameLength = try reader.u32()
            commitment = []
        } else {
            frameLength = try reader.u32()
            commitment = try reader.bytes(32)
        }
        switch contentType {
        case .framed where frameLength == 0: throw EncryptionSDKError.malformed("framed message with frame length 0")
        case .nonFramed where frameLength != 0:
            throw EncryptionSDKError.malformed("non-framed message with a frame length")
        default: break
        }
        let body = Array(UnsafeRawBufferPointer(rebasing: reader.bytes[0..<reader.offset]))
        let iv = version == 1 ? try reader.bytes(ivLength) : zeroIV
        let tag = try reader.bytes(tagLength)
        let header = MessageHeader(
            version: version,
            algorithmSuite: suite,
            messageID: messageID,
            encryptionContext: context,
            encryptedDataKeys: edks,
            contentType: contentType,
            frameLength: frameLength,
            commitment: commitment,
            authenticationIV: iv,
            authenticationTag: tag,
            body: body
        )
        return (header, reader.offset)
    }
}

extension ContextCoding {
    /// Parses the header's AAD field. Some old writers store an empty context as a zero pair count
    /// inside a two-byte field; that is accepted, since the header tag covers the raw bytes anyway.
    static func parseHeaderAAD(_ bytes: UnsafeRawBufferPointer) throws(EncryptionSDKError) -> EncryptionContext {
        if bytes.count == 2, bytes[0] == 0, bytes[1] == 0 { return [:] }
        return try parse(bytes)
    }
}

extension MessageHeader {
    /// Reads the header at the start of a message without decrypting anything, for routing and
    /// governance: suite, context, encrypted data keys (their providers and key ARNs).
    ///
    /// - Throws: ``EncryptionSDKError`` `malformedMessage` (also when the message ends inside its
    ///   header) or `tooManyEncryptedDataKeys`.
    public init(parsing message: [UInt8], maxEncryptedDataKeys: Int? = nil) throws(EncryptionSDKError) {
        let parsed: (header: MessageHeader, length: Int)?
        do {
            parsed = try message.withUnsafeBytes { try Self.parse($0, maxEncryptedDataKeys: maxEncryptedDataKeys) }
        } catch {
            throw error as? EncryptionSDKError ?? .malformed("unreadable header")
        }
        guard let parsed else { throw .malformed("the message ends inside its header") }
        self = parsed.header
    }
}
