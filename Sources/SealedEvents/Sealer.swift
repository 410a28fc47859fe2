public import EncryptionSDK
public import Foundation
public import KMS
public import Logging
internal import SealedSupport
internal import Synchronization

/// Seals events at the producer: the whole `data`, or the event type's sensitive fields, into one ESDK message
/// per event, bound to the event by its id (and the fields' pointers).
///
/// ```swift
/// let sealer = try Sealer(kms: kmsClient, logger: logger)
/// let envelope = Envelope(metaData: MetaData(eventId: Sealer.makeEventId(), eventType: descriptor.name,
///                                            domain: descriptor.domain, source: "checkout-service"),
///                         data: ["card": ["number": "4111…", "expiry": "12/29"], "amount": 1250])
/// let sealed = try await sealer.seal(envelope, as: descriptor)
/// ```
///
/// Data keys are cached (the ESDK caching CMM): one data key seals many events of one event type, within
/// ``Configuration/maxAge``, ``Configuration/maxMessages`` and ``Configuration/maxBytes``. The encryption
/// context holds only the stable `eventType` and `domain`, so the cache serves every event of a type. For the
/// signed suite 0x0578 every event is still signed; the signing key is cached with the data key.
public struct Sealer: Sendable {
    /// Data-key cache limits and the ESDK frame length.
    public struct Configuration: Sendable {
        /// The longest a data key is used after KMS made it. Default 5 minutes.
        public var maxAge: Duration
        /// The most events one data key seals. Default 10,000.
        public var maxMessages: UInt64
        /// The most plaintext bytes one data key seals. Default 1 GiB.
        public var maxBytes: UInt64
        /// The most data keys held at once (one per event type and key). Default 1,000.
        public var capacity: Int
        /// Plaintext bytes per ESDK frame. Default 4,096.
        public var frameLength: Int

        public init(
            maxAge: Duration = .seconds(300),
            maxMessages: UInt64 = 10_000,
            maxBytes: UInt64 = 1 << 30,
            capacity: Int = 1_000,
            frameLength: Int = 4_096
        ) {
            self.maxAge = maxAge
            self.maxMessages = maxMessages
            self.maxBytes = maxBytes
            self.capacity = capacity
            self.frameLength = frameLength
        }
    }

    public let configuration: Configuration
    private let managers: MaterialsManagers
    private let client = EncryptionClient()
    private let logger: Logger

    /// A sealer that wraps every data key with one keyring (raw AES/RSA keys, a multi-keyring, or a
    /// ``KMS/KMSKeyring`` for one key).
    ///
    /// The keyring must wrap with each descriptor's ``EventTypeDescriptor/keyArn``: after sealing, the sealer checks
    /// that the message holds a data key wrapped by that key, and refuses the event otherwise.
    ///
    /// - Parameters:
    ///   - keyring: Wraps the data keys.
    ///   - configuration: Cache limits.
    ///   - clock: The clock cache ages are measured on.
    ///   - logger: Receives debug records (event ids, types; never data).
    /// - Throws: ``SealedEventsError`` `invalidArgument` for cache limits the ESDK rejects.
    public init(
        keyring: any Keyring,
        configuration: Configuration = Configuration(),
        clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "sealed-events", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SealedEventsError) {
        self.configuration = configuration
        self.logger = logger
        let cache = MaterialsCache(capacity: configuration.capacity)
        let manager = try MaterialsManagers.caching(keyring, cache: cache, configuration: configuration, clock: clock)
        self.managers = MaterialsManagers { _ in manager }
    }

    /// A sealer that wraps data keys with AWS KMS (or our key service): for each descriptor, a ``KMS/KMSKeyring``
    /// whose generator is the descriptor's key, with its own cache partition.
    ///
    /// - Parameters:
    ///   - kms: The KMS client, with the producer's credentials.
    ///   - grantTokens: Grant tokens sent with every KMS call.
    ///   - configuration: Cache limits.
    ///   - clock: The clock cache ages are measured on.
    ///   - logger: Receives debug records.
    /// - Throws: ``SealedEventsError`` `invalidArgument` for cache limits the ESDK rejects.
    public init(
        kms: KMSClient,
        grantTokens: [String] = [],
        configuration: Configuration = Configuration(),
        clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "sealed-events", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SealedEventsError) {
        self.configuration = configuration
        self.logger = logger
        let cache = MaterialsCache(capacity: configuration.capacity)
        // Validate the limits once, up front.
        _ = try MaterialsManagers.caching(
            RejectingKeyring(),
            cache: MaterialsCache(capacity: 1),
            configuration: configuration,
            clock: clock
        )
        let byKey = Mutex<[String: CachingMaterialsManager]>([:])
        self.managers = MaterialsManagers { keyArn throws(SealedEventsError) in
            if let manager = byKey.withLock({ $0[keyArn] }) { return manager }
            let keyring: KMSKeyring
            do throws(EncryptionSDKError) {
                keyring = try KMSKeyring(generatorKeyId: keyArn, client: kms, grantTokens: grantTokens)
            } catch {
                throw .invalidArgument("no KMS keyring for \(keyArn): \(error.reason)")
            }
            let manager = try MaterialsManagers.caching(
                keyring,
                cache: cache,
                configuration: configuration,
                clock: clock
            )
            return byKey.withLock { managers in
                if let existing = managers[keyArn] { return existing }
                managers[keyArn] = manager
                return manager
            }
        }
    }

    /// A new event id: a ULID (26 characters of Crockford base32, time-ordered to the millisecond).
    public static func makeEventId(at date: Date = Date()) -> String {
        let alphabet: StaticString = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        // The random bits from one system call (the standard library's generator makes one per 8 bytes).
        var random: (low: UInt64, high: UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { fillRandom($0) }
        // 128 bits: 48 of time, 80 of randomness, written as 26 five-bit digits (the top two bits are zero).
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | random.high & 0xFFFF
        let low = random.low
        // Written straight into the string's storage: a growing array and its copy cost four times as much.
        return alphabet.withUTF8Buffer { alphabet in
            String(unsafeUninitializedCapacity: 26) { out in
                for index in 0..<26 {
                    let shift = 125 - 5 * index  // bit offset of this digit from the least significant end
                    var digit: UInt64
                    if shift >= 64 {
                        digit = high >> UInt64(shift - 64)
                    } else if shift > 59 {
                        digit = (high << UInt64(64 - shift)) | (low >> UInt64(shift))
                    } else {
                        digit = low >> UInt64(shift)
                    }
                    digit &= 0x1F
                    out[index] = alphabet[Int(digit)]
                }
                return 26
            }
        }
    }

    /// Seals an event as its catalog entry says.
    ///
    /// The envelope's `eventType` and `domain` must be the descriptor's; `classification` and `regulations` are
    /// taken from the descriptor when the envelope has none. Then:
    ///
    /// - ``EventTypeDescriptor/Sealing/none``: the envelope is returned with only that metadata filled in;
    /// - ``EventTypeDescriptor/Sealing/data``: `data` becomes the base64 ESDK message of
    ///   `{"v":1,"eventId":…,"data":…}`;
    /// - ``EventTypeDescriptor/Sealing/fields(_:)``: each listed field the data holds is replaced by
    ///   ``Envelope/sealedMarker``; their values travel in one ESDK message of
    ///   `{"v":1,"eventId":…,"fields":[{"pointer":…,"value":…},…]}` in `metaData.encryption.ciphertext`, and
    ///   `metaData.encryption.sealedFields` lists the pointers. Fields the event does not carry are skipped.
    ///
    /// The ESDK encryption context is `{"eventType": …, "domain": …}`.
    ///
    /// - Returns: The sealed envelope.
    /// - Throws: ``SealedEventsError``: `alreadySealed`; `invalidArgument` (another event type, an invalid descriptor,
    ///   a keyring that did not use the descriptor's key); `accessDenied` when KMS refuses the producer;
    ///   `keyServiceFailure`.
    public func seal(
        _ envelope: Envelope,
        as descriptor: EventTypeDescriptor
    ) async throws(SealedEventsError)
        -> Envelope
    {
        try descriptor.validate()
        var envelope = envelope
        let eventId = envelope.metaData.eventId
        guard envelope.metaData.encryption == nil else {
            throw SealedEventsError(.alreadySealed, "event \(eventId) is already sealed")
        }
        guard envelope.metaData.eventType.hasSameUTF8(as: descriptor.name),
            envelope.metaData.domain.hasSameUTF8(as: descriptor.domain)
        else {
            throw .invalidArgument(
                "event \(eventId) is of type \(envelope.metaData.eventType) in \(envelope.metaData.domain), not \(descriptor.name) in \(descriptor.domain)"
            )
        }
        guard !eventId.isEmpty else { throw .invalidArgument("an event needs an eventId to be sealed") }
        if envelope.metaData.classification == nil { envelope.metaData.classification = descriptor.classification }
        if envelope.metaData.regulations == nil, !descriptor.regulations.isEmpty {
            envelope.metaData.regulations = descriptor.regulations
        }

        let context = ["eventType": descriptor.name, "domain": descriptor.domain]
        switch descriptor.sealing {
        case .none:
            return envelope
        case .data:
            let plaintext = SealedPayload.encode(eventId: eventId, content: .data(envelope.data))
            let message = try await encrypt(plaintext, context: context, descriptor: descriptor)
            envelope.data = .string(Base64.encode(message))
            envelope.metaData.encryption = Encryption(
                keyArn: descriptor.keyArn,
                algorithmSuite: descriptor.algorithmSuite.description,
                scope: .data,
                encryptionContext: context
            )
        case .fields(let pointers):
            var fields: [(pointer: JSONPointer, value: JSONValue)] = []
            for pointer in pointers {
                guard let value = try? envelope.data.value(at: pointer) else { continue }
                fields.append((pointer, value))
            }
            let plaintext = SealedPayload.encode(eventId: eventId, content: .fields(fields))
            let message = try await encrypt(plaintext, context: context, descriptor: descriptor)
            for field in fields { try envelope.data.setValue(Envelope.sealedMarker, at: field.pointer) }
            envelope.metaData.encryption = Encryption(
                keyArn: descriptor.keyArn,
                algorithmSuite: descriptor.algorithmSuite.description,
                scope: .fields,
                encryptionContext: context,
                sealedFields: fields.map(\.pointer),
                ciphertext: Base64.encode(message)
            )
        }
        logger.debug(
            "sealed event",
            metadata: [
                "eventId": .string(eventId), "eventType": .string(descriptor.name),
                "scope": .string(envelope.metaData.encryption?.scope.rawValue ?? "none"),
            ]
        )
        return envelope
    }

    private func encrypt(
        _ plaintext: [UInt8],
        context: [String: String],
        descriptor: EventTypeDescriptor
    ) async throws(SealedEventsError) -> [UInt8] {
        let manager = try managers.manager(descriptor.keyArn)
        let message: EncryptedMessage
        do {
            message = try await client.encrypt(
                plaintext,
                materialsManager: manager,
                encryptionContext: context,
                algorithmSuite: descriptor.algorithmSuite,
                frameLength: configuration.frameLength
            )
        } catch {
            let mapped = KeyServiceErrors.map(error, keyArn: descriptor.keyArn, eventType: descriptor.name)
            logger.debug(
                "sealing failed",
                metadata: ["eventType": .string(descriptor.name), "code": .string(mapped.code.description)]
            )
            throw mapped
        }
        guard
            message.header.encryptedDataKeys.contains(where: {
                SealedMessage.keyIdentifier(of: $0) == descriptor.keyArn
            })
        else {
            let used = message.header.encryptedDataKeys.compactMap(SealedMessage.keyIdentifier(of:))
            throw .invalidArgument(
                "the keyring wrapped the data key with \(used.joined(separator: ", ")), not with \(descriptor.keyArn)"
            )
        }
        return message.ciphertext
    }
}

/// Finds the caching materials manager for a key.
struct MaterialsManagers: Sendable {
    let manager: @Sendable (String) throws(SealedEventsError) -> CachingMaterialsManager

    init(_ manager: @escaping @Sendable (String) throws(SealedEventsError) -> CachingMaterialsManager) {
        self.manager = manager
    }

    static func caching(
        _ keyring: any Keyring,
        cache: MaterialsCache,
        configuration: Sealer.Configuration,
        clock: some Clock<Duration>
    ) throws(SealedEventsError) -> CachingMaterialsManager {
        do throws(EncryptionSDKError) {
            return try CachingMaterialsManager(
                keyring: keyring,
                cache: cache,
                maxAge: configuration.maxAge,
                maxMessages: configuration.maxMessages,
                maxBytes: configuration.maxBytes,
                clock: clock
            )
        } catch {
            throw .invalidArgument("invalid data key cache limits: \(error.reason)")
        }
    }
}

/// A keyring that refuses everything; used only to validate cache limits.
struct RejectingKeyring: Keyring {
    func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        throw EncryptionSDKError(.keyringFailure, "rejecting keyring")
    }

    func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials {
        throw EncryptionSDKError(.noDecryptableDataKey, "rejecting keyring")
    }
}
