public import EncryptionSDK
internal import Foundation
internal import SealedSupport

/// The ESDK message of a sealed envelope, located and parsed without decrypting anything.
///
/// Everything an ``Opener`` checks before it asks a key service for a data key is checked here, so the
/// platform's governance can use it at publish time: that an event claiming to be sealed with a domain's key
/// really is, with the right suite and encryption context.
///
/// - Scope `data`: the message is the base64 string in `data`.
/// - Scope `fields`: the message is the base64 string in `metaData.encryption.ciphertext`, and every pointer in
///   `metaData.encryption.sealedFields` names a place in `data` that holds ``Envelope/sealedMarker``.
public struct SealedMessage: Sendable {
    /// The envelope's encryption block.
    public let encryption: Encryption
    /// The parsed algorithm suite (0x0478 or 0x0578).
    public let algorithmSuite: AlgorithmSuite
    /// The ESDK message.
    public let bytes: [UInt8]
    /// Its parsed header.
    public let header: MessageHeader

    /// Locates and checks the sealed message of `envelope`:
    ///
    /// 1. `metaData.encryption` exists (else `notSealed`), its format is `aws-esdk` and its scope `data` or
    ///    `fields` (else `unsupportedFormat`), its suite is exactly `0x0478` or `0x0578` (else
    ///    `unsupportedAlgorithmSuite`);
    /// 2. its encryption context holds `eventType` and `domain` equal to the envelope's, and no `aws-crypto-` key;
    /// 3. scope `data`: `data` is a base64 string and there is no `ciphertext` or `sealedFields`; scope `fields`:
    ///    `ciphertext` is base64, the pointers are distinct, not the root, do not overlap, and each names a
    ///    marker in `data`;
    /// 4. the message header parses, has the declared suite, an encryption context that equals the block's
    ///    (after removing the ESDK's own `aws-crypto-` pairs), and an encrypted data key of ``Encryption/keyArn``
    ///    (see ``keyIdentifier(of:)``) — or, when the context names a `subjectKey`, a branch key id of the event's
    ///    type, exactly one encrypted data key, of that branch key (``branchKeyID(of:)``).
    ///
    /// - Throws: ``SealedEventsError``: `notSealed`, `unsupportedFormat`, `unsupportedAlgorithmSuite`,
    ///   `malformedEnvelope` or `bindingMismatch`.
    public init(_ envelope: Envelope) throws(SealedEventsError) {
        let metaData = envelope.metaData
        guard let encryption = metaData.encryption else {
            throw SealedEventsError(.notSealed, "event \(metaData.eventId) carries no metaData.encryption")
        }
        guard encryption.format == Encryption.esdkFormat else {
            throw SealedEventsError(.unsupportedFormat, "encryption format \"\(encryption.format)\" is not aws-esdk")
        }
        guard
            let suite = EventTypeDescriptor.supportedSuites.first(where: { $0.description == encryption.algorithmSuite }
            )
        else {
            throw SealedEventsError(
                .unsupportedAlgorithmSuite,
                "algorithm suite \"\(encryption.algorithmSuite)\" is not 0x0478 or 0x0578"
            )
        }
        let context = encryption.encryptionContext
        guard context["eventType"].map({ $0.hasSameUTF8(as: metaData.eventType) }) == true,
            context["domain"].map({ $0.hasSameUTF8(as: metaData.domain) }) == true
        else {
            throw SealedEventsError.binding("the encryption context does not name the envelope's eventType and domain")
        }
        guard !context.keys.contains(where: { $0.hasPrefix("aws-crypto-") }) else {
            throw SealedEventsError.malformed("metaData.encryption.encryptionContext holds a reserved aws-crypto- key")
        }

        let encoded: String
        switch encryption.scope {
        case .data:
            guard encryption.ciphertext == nil, encryption.sealedFields == nil else {
                throw SealedEventsError.malformed("scope data carries no ciphertext or sealedFields in metaData")
            }
            guard let text = envelope.data.stringValue else {
                throw SealedEventsError.malformed("scope data needs data to be a base64 string")
            }
            encoded = text
        case .fields:
            guard let text = encryption.ciphertext, let pointers = encryption.sealedFields else {
                throw SealedEventsError.malformed("scope fields needs metaData.encryption.ciphertext and sealedFields")
            }
            if !pointers.isEmpty {
                do throws(SealedEventsError) {
                    try EventTypeDescriptor.validateFieldPointers(pointers)
                } catch {
                    throw SealedEventsError.malformed("metaData.encryption.sealedFields: \(error.reason)")
                }
            }
            for pointer in pointers {
                guard (try? envelope.data.value(at: pointer)) == Envelope.sealedMarker else {
                    throw SealedEventsError.binding("sealed field \(pointer) does not hold the sealed marker in data")
                }
            }
            encoded = text
        default:
            throw SealedEventsError(.unsupportedFormat, "unknown sealing scope \"\(encryption.scope)\"")
        }
        let bytes: [UInt8]
        do throws(Base64.DecodingError) {
            bytes = try Base64.decode(encoded)
        } catch {
            throw SealedEventsError.malformed("the sealed ESDK message is not valid base64")
        }
        let header: MessageHeader
        do throws(EncryptionSDKError) {
            header = try MessageHeader(parsing: bytes)
        } catch {
            throw SealedEventsError.malformed("the sealed payload is not an ESDK message (\(error.code))")
        }
        guard header.algorithmSuite == suite else {
            throw SealedEventsError.binding("the ESDK message uses suite \(header.algorithmSuite), not \(suite)")
        }
        guard Self.sameContext(ignoringReservedKeysOf: header.encryptionContext, context) else {
            throw SealedEventsError.binding("the ESDK message's encryption context differs from metaData's")
        }
        if let branchKeyID = context[SubjectKeys.contextKey] {
            // Subject-keyed: the branch key is the event type's, and wraps the data key alone (a copy under the
            // domain key would survive the subject's erasure).
            guard branchKeyID.hasPrefix(metaData.eventType + "/") else {
                throw SealedEventsError.binding("the subject key \(branchKeyID) is not one of \(metaData.eventType)")
            }
            guard header.encryptedDataKeys.map({ Self.branchKeyID(of: $0) }) == [branchKeyID] else {
                throw SealedEventsError.binding("the ESDK message's data key is not wrapped by \(branchKeyID) alone")
            }
        } else {
            guard header.encryptedDataKeys.contains(where: { Self.keyIdentifier(of: $0) == encryption.keyArn }) else {
                throw SealedEventsError.binding("the ESDK message has no data key wrapped by \(encryption.keyArn)")
            }
        }
        self.encryption = encryption
        self.algorithmSuite = suite
        self.bytes = bytes
        self.header = header
    }

    /// The identifiers of the keys that wrapped the message's data key, as ``keyIdentifier(of:)`` writes them.
    public var keyIdentifiers: [String] { header.encryptedDataKeys.compactMap(Self.keyIdentifier(of:)) }

    /// The identifier of the key that wrapped an encrypted data key, in the form ``Encryption/keyArn`` uses:
    ///
    /// - provider `aws-kms`: the provider info, which is the KMS key ARN;
    /// - any other provider (a raw keyring): `raw:NAMESPACE/NAME`, where NAMESPACE is the provider ID and NAME the
    ///   key name: the provider info without the 20-byte suffix of the raw AES keyring (tag length 128, IV length
    ///   12, IV), or the whole provider info (raw RSA keyring).
    ///
    /// - Returns: `nil` when the provider ID or info is not valid UTF-8.
    public static func keyIdentifier(of key: EncryptedDataKey) -> String? {
        if key.providerID == "aws-kms" { return key.providerInfo.withUnsafeBytes(validUTF8String) }
        var name = key.providerInfo[...]
        let aesSuffix: [UInt8] = [0, 0, 0, 128, 0, 0, 0, 12]
        if name.count >= 20, name.dropFirst(name.count - 20).prefix(8).elementsEqual(aesSuffix) {
            name = name.dropLast(20)
        }
        guard let text = name.withUnsafeBytes(validUTF8String) else { return nil }
        return "raw:\(key.providerID)/\(text)"
    }

    /// The branch key id of an encrypted data key of the AWS KMS Hierarchical keyring (provider
    /// `aws-kms-hierarchy`): its provider info; `nil` for any other provider.
    public static func branchKeyID(of key: EncryptedDataKey) -> String? {
        guard key.providerID == HierarchicalKeyring.providerID else { return nil }
        return key.providerInfo.withUnsafeBytes(validUTF8String)
    }

    /// The `raw:NAMESPACE/NAME` identifier of a raw keyring's key.
    public static func rawKeyIdentifier(namespace: String, name: String) -> String { "raw:\(namespace)/\(name)" }

    /// Whether `stored`, without its `aws-crypto-` pairs, holds exactly the pairs of `context`, comparing bytes.
    static func sameContext(ignoringReservedKeysOf stored: [String: String], _ context: [String: String]) -> Bool {
        var count = 0
        for (key, value) in stored where !key.hasPrefix("aws-crypto-") {
            count += 1
            guard context.contains(where: { $0.key.hasSameUTF8(as: key) && $0.value.hasSameUTF8(as: value) }) else {
                return false
            }
        }
        return count == context.count
    }
}

extension SealedMessage {
    /// Locates and checks the sealed message as ``init(_:)`` does, and checks the envelope against its catalog
    /// entry: the event type, domain, key, suite and scope must be the descriptor's; for field sealing every
    /// sealed pointer must be one of the descriptor's, and each of the descriptor's pointers that is not sealed
    /// must be absent from `data` (a field the event does not carry need not be sealed).
    ///
    /// - Throws: ``SealedEventsError`` as ``init(_:)``, and `bindingMismatch` when the envelope disagrees with the
    ///   descriptor (or the descriptor says the event type is not sealed).
    public init(_ envelope: Envelope, descriptor: EventTypeDescriptor) throws(SealedEventsError) {
        let metaData = envelope.metaData
        guard metaData.eventType.hasSameUTF8(as: descriptor.name),
            metaData.domain.hasSameUTF8(as: descriptor.domain)
        else {
            throw SealedEventsError.binding(
                "event \(metaData.eventId) is of type \(metaData.eventType) in \(metaData.domain), not \(descriptor.name) in \(descriptor.domain)"
            )
        }
        try self.init(envelope)
        guard encryption.keyArn == descriptor.keyArn else {
            throw SealedEventsError.binding(
                "event \(metaData.eventId) is sealed with \(encryption.keyArn), not the event type's key"
            )
        }
        guard algorithmSuite == descriptor.algorithmSuite else {
            throw SealedEventsError.binding(
                "event \(metaData.eventId) uses suite \(algorithmSuite), not \(descriptor.algorithmSuite)"
            )
        }
        switch descriptor.sealing {
        case .none:
            throw SealedEventsError.binding("event type \(descriptor.name) is not sealed, yet the event is")
        case .data:
            guard encryption.scope == .data else {
                throw SealedEventsError.binding("event type \(descriptor.name) seals the whole data, not fields")
            }
        case .fields(let pointers):
            guard encryption.scope == .fields, let sealed = encryption.sealedFields else {
                throw SealedEventsError.binding("event type \(descriptor.name) seals fields, not the whole data")
            }
            for pointer in sealed where !pointers.contains(pointer) {
                throw SealedEventsError.binding(
                    "sealed field \(pointer) is not a sensitive field of \(descriptor.name)"
                )
            }
            for pointer in pointers where !sealed.contains(pointer) && (try? envelope.data.value(at: pointer)) != nil {
                throw SealedEventsError.binding("sensitive field \(pointer) of \(descriptor.name) is not sealed")
            }
        }
    }
}
