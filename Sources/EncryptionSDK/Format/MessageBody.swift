internal import Crypto
internal import Foundation
internal import SealedSupport

/// The additional data of a body frame (ESDK spec `data-format/message-body-aad.md`): the whole
/// message ID, a label, the frame's sequence number and its plaintext length.
enum BodyAAD {
    static let regularLabel = Array("AWSKMSEncryptionClient Frame".utf8)
    static let finalLabel = Array("AWSKMSEncryptionClient Final Frame".utf8)
    static let singleBlockLabel = Array("AWSKMSEncryptionClient Single Block".utf8)

    static func make(messageID: [UInt8], label: [UInt8], sequence: UInt32, length: UInt64) -> [UInt8] {
        var aad: [UInt8] = []
        aad.reserveCapacity(messageID.count + label.count + 12)
        aad.append(contentsOf: messageID)
        aad.append(contentsOf: label)
        aad.appendU32(sequence)
        aad.appendU64(length)
        return aad
    }
}

let finalFrameMarker: UInt32 = 0xFFFF_FFFF

/// Writes one message: the header, then frames as plaintext arrives, then the footer.
///
/// Encryptors write frame IVs as `00×8 ‖ u32 sequence` and split plaintext into frames of
/// ``frameLength`` bytes; the last frame is always a final frame, which may be full or empty
/// (ESDK spec `data-format/message-body.md#framed-data`).
struct MessageEncoder {
    let header: MessageHeader
    let frameLength: Int
    private let encryptionKey: SymmetricKey
    private let signingKey: SigningKey?
    private var hasher: MessageHasher?
    private var sequence: UInt32 = 1

    init(materials: EncryptionMaterials, frameLength: Int) throws(EncryptionSDKError) {
        guard let dataKey = materials.plaintextDataKey else { throw .invalidMaterials("no data key") }
        let suite = materials.algorithmSuite
        let messageID = Random.bytes(suite.messageIDLength)
        let keys = KeyDerivation.derive(dataKey: dataKey, suite: suite, messageID: messageID)

        let (stored, authOnly) = ContextCoding.split(
            materials.encryptionContext,
            required: materials.requiredEncryptionContextKeys
        )
        let body = MessageHeader.makeBody(
            suite: suite,
            messageID: messageID,
            serializedContext: try ContextCoding.serialize(stored),
            encryptedDataKeys: materials.encryptedDataKeys,
            frameLength: UInt32(frameLength),
            commitment: keys.commitment
        )
        let iv = MessageHeader.zeroIV
        let tag: [UInt8]
        do {
            let sealed = try AES.GCM.seal(
                [UInt8](),
                using: keys.encryptionKey,
                nonce: AES.GCM.Nonce(data: iv),
                authenticating: authOnly.isEmpty ? body : body + (try ContextCoding.serialize(authOnly))
            )
            tag = sealed.combined!.withUnsafeBytes { Array($0.suffix(MessageHeader.tagLength)) }
        } catch let error as EncryptionSDKError {
            throw error
        } catch {
            throw .invalidMaterials("the derived key is unusable")
        }
        self.header = MessageHeader(
            version: suite.messageFormatVersion,
            algorithmSuite: suite,
            messageID: messageID,
            encryptionContext: stored,
            encryptedDataKeys: materials.encryptedDataKeys,
            contentType: .framed,
            frameLength: UInt32(frameLength),
            commitment: keys.commitment,
            authenticationIV: iv,
            authenticationTag: tag,
            body: body
        )
        self.frameLength = frameLength
        self.encryptionKey = keys.encryptionKey
        self.signingKey = materials.signingKey
        self.hasher = suite.signature.map { MessageHasher($0) }
    }

    /// Appends the serialized header.
    mutating func writeHeader(to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: header.body)
        if header.version == 1 { out.append(contentsOf: header.authenticationIV) }
        out.append(contentsOf: header.authenticationTag)
        if hasher != nil { out.withUnsafeBytes { hasher!.update(UnsafeRawBufferPointer(rebasing: $0[start...])) } }
    }

    /// Appends one frame holding `chunk` (exactly ``frameLength`` bytes unless `final`).
    mutating func writeFrame(
        _ chunk: UnsafeRawBufferPointer,
        final: Bool,
        to out: inout [UInt8]
    ) throws(EncryptionSDKError) {
        guard final || sequence < finalFrameMarker - 1 else {
            throw .invalidArgument("the plaintext needs more than 2^32 - 1 frames; use a larger frame length")
        }
        let start = out.count
        let aad = BodyAAD.make(
            messageID: header.messageID,
            label: final ? BodyAAD.finalLabel : BodyAAD.regularLabel,
            sequence: sequence,
            length: UInt64(chunk.count)
        )
        let sealed: AES.GCM.SealedBox
        do {
            // IV = 00×8 ‖ u32 sequence: the 12 bytes of this tuple, on the stack rather than in two arrays.
            let iv = (UInt64(0), sequence.bigEndian)
            sealed = try withUnsafeBytes(of: iv) { iv in
                try AES.GCM.seal(chunk, using: encryptionKey, nonce: AES.GCM.Nonce(data: iv), authenticating: aad)
            }
        } catch {
            throw .invalidMaterials("the derived key is unusable")
        }
        // The sealed box's combined form is IV ‖ ciphertext ‖ tag, which a regular frame holds as it is; copying
        // from it once costs a fraction of the `ciphertext` and `tag` slices of `Data`.
        // `combined` is nil only for nonces of other lengths than 12 bytes, which ESDK IVs have.
        sealed.combined!.withUnsafeBytes { combined in
            if final {
                out.appendU32(finalFrameMarker)
                out.appendU32(sequence)
                out.append(contentsOf: combined[..<MessageHeader.ivLength])
                out.appendU32(UInt32(chunk.count))
                out.append(contentsOf: combined[MessageHeader.ivLength...])
            } else {
                out.appendU32(sequence)
                out.append(contentsOf: combined)
            }
        }
        sequence += 1
        if hasher != nil { out.withUnsafeBytes { hasher!.update(UnsafeRawBufferPointer(rebasing: $0[start...])) } }
    }

    /// Appends the footer of a signed suite; nothing for unsigned suites.
    mutating func writeFooter(to out: inout [UInt8]) throws(EncryptionSDKError) {
        guard let hasher, let signingKey else { return }
        let signature: [UInt8]
        do {
            signature = try signingKey.sign(hasher.finalize())
        } catch {
            throw .invalidMaterials("the signing key could not sign")
        }
        out.appendU16(UInt16(signature.count))
        out.append(contentsOf: signature)
    }

    /// Encrypts a whole plaintext at once: full frames, then a final frame holding the rest (a full
    /// final frame when the length is an exact multiple, an empty one for an empty plaintext).
    mutating func writeBody(_ plaintext: UnsafeRawBufferPointer, to out: inout [UInt8]) throws(EncryptionSDKError) {
        var offset = 0
        while plaintext.count - offset > frameLength {
            try writeFrame(
                UnsafeRawBufferPointer(rebasing: plaintext[offset..<offset + frameLength]),
                final: false,
                to: &out
            )
            offset += frameLength
        }
        try writeFrame(UnsafeRawBufferPointer(rebasing: plaintext[offset...]), final: true, to: &out)
        try writeFooter(to: &out)
    }

    /// An upper bound of the message size for `plaintextLength` bytes, to reserve the output once.
    func estimatedLength(plaintextLength: Int) -> Int {
        let frames = max(1, (plaintextLength + frameLength - 1) / frameLength)
        return header.body.count + 28 + plaintextLength + frames * 40 + 2 + 110
    }
}

/// Reads a message body after its header: authenticates the header, then decrypts frames (or the
/// single block) and checks the footer, as input allows.
///
/// Frame IVs are used as stored, never recomputed (ESDK spec `message-body.md#iv`). Every failure past
/// the header is ``EncryptionSDKError/authenticationFailure``.
struct MessageDecoder {
    enum Stage {
        case frames
        case footer
        case done
    }

    let header: MessageHeader
    private let encryptionKey: SymmetricKey
    private let verificationKey: VerificationKey?
    private var hasher: MessageHasher?
    private var sequence: UInt32 = 1
    private let bufferLimit: Int?
    private(set) var stage: Stage = .frames

    var isComplete: Bool { stage == .done }
    var isSigned: Bool { verificationKey != nil }

    /// Derives the keys, checks the key commitment and the header tag.
    ///
    /// - Parameter bufferLimit: the most body bytes a streaming reader may have to hold at once
    ///   (`nil`: unlimited, for one-shot decryption where the whole message is in memory already).
    init(header: MessageHeader, materials: DecryptionMaterials, bufferLimit: Int?) throws(EncryptionSDKError) {
        guard let dataKey = materials.plaintextDataKey, materials.algorithmSuite == header.algorithmSuite else {
            throw .invalidMaterials("the materials do not fit the message")
        }
        let keys = KeyDerivation.derive(dataKey: dataKey, suite: header.algorithmSuite, messageID: header.messageID)
        if header.algorithmSuite.isCommitting {
            // ESDK spec `client-apis/decrypt.md`: compare the commitment before the header tag.
            guard constantTimeEquals(keys.commitment, header.commitment) else { throw .authenticationFailure }
        }
        let authOnly = ContextCoding.split(
            materials.encryptionContext,
            required: materials.requiredEncryptionContextKeys
        ).authOnly
        let aad = authOnly.isEmpty ? header.body : header.body + (try ContextCoding.serialize(authOnly))
        let opened = header.authenticationIV.withUnsafeBytes { iv in
            header.authenticationTag.withUnsafeBytes { tag in
                GCM.open(
                    key: keys.encryptionKey,
                    iv: iv,
                    ciphertext: UnsafeRawBufferPointer(start: nil, count: 0),
                    tag: tag,
                    aad: aad
                )
            }
        }
        guard opened != nil else { throw .authenticationFailure }
        if let limit = bufferLimit, Int(header.frameLength) > limit {
            throw EncryptionSDKError(
                .bufferLimitExceeded,
                "the message's frame length \(header.frameLength) exceeds the streaming buffer limit \(limit)"
            )
        }
        self.header = header
        self.encryptionKey = keys.encryptionKey
        self.verificationKey = materials.verificationKey
        self.bufferLimit = bufferLimit
        if let signature = header.algorithmSuite.signature {
            var hasher = MessageHasher(signature)
            hasher.update(header.serialized)
            self.hasher = hasher
        }
    }

    /// Decodes every complete frame (and the footer) at the start of `input`, appending plaintext.
    ///
    /// - Returns: the number of bytes consumed; the caller keeps the rest for the next call.
    mutating func decode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(EncryptionSDKError) -> Int
    {
        var consumed = 0
        while stage != .done {
            var reader = ByteReader(input, offset: consumed)
            let wasFrames = stage == .frames
            do {
                try decodeOne(&reader, into: &output)
            } catch is ByteReader.Truncated {
                break
            } catch let error as EncryptionSDKError {
                throw error
            } catch {
                throw .authenticationFailure
            }
            if wasFrames, hasher != nil {
                // The signature covers every byte before the footer.
                hasher!.update(UnsafeRawBufferPointer(rebasing: input[consumed..<reader.offset]))
            }
            consumed = reader.offset
        }
        return consumed
    }

    /// Decodes one frame, block or footer; throws ``ByteReader/Truncated`` when `reader` lacks its bytes.
    private mutating func decodeOne(_ reader: inout ByteReader, into output: inout [UInt8]) throws {
        switch stage {
        case .frames:
            if header.contentType == .nonFramed {
                try decodeSingleBlock(&reader, into: &output)
            } else {
                try decodeFrame(&reader, into: &output)
            }
        case .footer:
            let length = Int(try reader.u16())
            let signature = try reader.bytes(length)
            guard let hasher, let verificationKey, verificationKey.isValid(signature: signature, for: hasher.finalize())
            else {
                throw EncryptionSDKError.authenticationFailure
            }
            stage = .done
        case .done:
            break
        }
    }

    private mutating func decodeFrame(_ reader: inout ByteReader, into output: inout [UInt8]) throws {
        let first = try reader.u32()
        let isFinal = first == finalFrameMarker
        let frameSequence = isFinal ? try reader.u32() : first
        let iv = try reader.view(MessageHeader.ivLength)
        let length = isFinal ? Int(try reader.u32()) : Int(header.frameLength)
        guard frameSequence == sequence, length <= Int(header.frameLength) else {
            throw EncryptionSDKError.authenticationFailure
        }
        let ciphertext = try reader.view(length)
        let tag = try reader.view(MessageHeader.tagLength)
        let aad = BodyAAD.make(
            messageID: header.messageID,
            label: isFinal ? BodyAAD.finalLabel : BodyAAD.regularLabel,
            sequence: frameSequence,
            length: UInt64(length)
        )
        try open(iv: iv, ciphertext: ciphertext, tag: tag, aad: aad, into: &output)
        if isFinal {
            stage = isSigned ? .footer : .done
        } else {
            guard sequence < finalFrameMarker - 1 else { throw EncryptionSDKError.authenticationFailure }
            sequence += 1
        }
    }

    private mutating func decodeSingleBlock(_ reader: inout ByteReader, into output: inout [UInt8]) throws {
        let iv = try reader.view(MessageHeader.ivLength)
        let length = try reader.u64()
        guard length <= (1 << 36) - 32 else { throw EncryptionSDKError.authenticationFailure }
        if let bufferLimit, length > UInt64(bufferLimit) {
            throw EncryptionSDKError(
                .bufferLimitExceeded,
                "the non-framed body of \(length) bytes exceeds the streaming buffer limit \(bufferLimit)"
            )
        }
        let ciphertext = try reader.view(Int(length))
        let tag = try reader.view(MessageHeader.tagLength)
        let aad = BodyAAD.make(
            messageID: header.messageID,
            label: BodyAAD.singleBlockLabel,
            sequence: 1,
            length: length
        )
        try open(iv: iv, ciphertext: ciphertext, tag: tag, aad: aad, into: &output)
        stage = isSigned ? .footer : .done
    }

    private func open(
        iv: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        aad: [UInt8],
        into output: inout [UInt8]
    ) throws {
        guard let plaintext = GCM.open(key: encryptionKey, iv: iv, ciphertext: ciphertext, tag: tag, aad: aad) else {
            throw EncryptionSDKError.authenticationFailure
        }
        // Appending the `Data` itself walks it through generic sequence code; its bytes are one buffer.
        plaintext.withUnsafeBytes { output.append(contentsOf: $0) }
    }
}

/// AES-GCM opening of an ESDK IV, ciphertext and tag.
enum GCM {
    /// The plaintext, or `nil` when the tag does not authenticate (or the IV or tag has the wrong length).
    ///
    /// The sealed box is made from one buffer, IV ‖ ciphertext ‖ tag, the form `SealedBox(combined:)` takes and
    /// keeps: `SealedBox(nonce:ciphertext:tag:)` builds the same buffer through generic appends, which cost
    /// several times the opening of a small frame. ESDK IVs are 12 bytes, the combined form's nonce length.
    static func open(
        key: SymmetricKey,
        iv: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer,
        aad: [UInt8]
    ) -> Data? {
        guard iv.count == MessageHeader.ivLength, tag.count == MessageHeader.tagLength else { return nil }
        let length = iv.count + ciphertext.count + tag.count
        let box: AES.GCM.SealedBox?
        if let start = iv.baseAddress, start + iv.count == ciphertext.baseAddress ?? start + iv.count,
            start + iv.count + ciphertext.count == tag.baseAddress
        {
            // A regular frame stores IV ‖ ciphertext ‖ tag contiguously: the box copies them straight from there.
            box = try? AES.GCM.SealedBox(combined: UnsafeRawBufferPointer(start: start, count: length))
        } else {
            // The header and final frames hold other fields between them: assembled in a temporary buffer, which
            // costs a fraction of appending to a `Data` three times.
            box = withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) { combined in
                combined.copyMemory(from: iv)
                if !ciphertext.isEmpty {
                    UnsafeMutableRawBufferPointer(rebasing: combined[iv.count...]).copyMemory(from: ciphertext)
                }
                UnsafeMutableRawBufferPointer(rebasing: combined[(iv.count + ciphertext.count)...]).copyMemory(
                    from: tag
                )
                return try? AES.GCM.SealedBox(combined: UnsafeRawBufferPointer(combined))
            }
        }
        guard let box else { return nil }
        return try? AES.GCM.open(box, using: key, authenticating: aad)
    }
}
