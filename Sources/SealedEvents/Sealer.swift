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
    private let subjects: SubjectSealing?
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
    ///   - subjects: How events of event types with a subject field are sealed (``SubjectKeys``, with a resolver);
    ///     `nil` when the producer seals none.
    ///   - configuration: Cache limits.
    ///   - clock: The clock cache ages are measured on.
    ///   - logger: Receives debug records (event ids, types; never data).
    /// - Throws: ``SealedEventsError`` `invalidArgument` for cache limits the ESDK rejects.
    public init(
        keyring: any Keyring,
        subjects: SubjectKeys? = nil,
        configuration: Configuration = Configuration(),
        clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "sealed-events", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SealedEventsError) {
        self.configuration = configuration
        self.logger = logger
        let cache = MaterialsCache(capacity: configuration.capacity)
        let manager = try MaterialsManagers.caching(keyring, cache: cache, configuration: configuration, clock: clock)
        self.managers = MaterialsManagers { _ in manager }
        self.subjects = try subjects.map { subjects throws(SealedEventsError) in
            try SubjectSealing(subjects, cache: cache, configuration: configuration, clock: clock)
        }
    }

    /// A sealer that wraps data keys with AWS KMS (or our key service): for each descriptor, a ``KMS/KMSKeyring``
    /// whose generator is the descriptor's key, with its own cache partition.
    ///
    /// - Parameters:
    ///   - kms: The KMS client, with the producer's credentials.
    ///   - grantTokens: Grant tokens sent with every KMS call.
    ///   - subjects: How events of event types with a subject field are sealed (``SubjectKeys``, with a resolver);
    ///     `nil` when the producer seals none.
    ///   - configuration: Cache limits.
    ///   - clock: The clock cache ages are measured on.
    ///   - logger: Receives debug records.
    /// - Throws: ``SealedEventsError`` `invalidArgument` for cache limits the ESDK rejects.
    public init(
        kms: KMSClient,
        grantTokens: [String] = [],
        subjects: SubjectKeys? = nil,
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
        self.subjects = try subjects.map { subjects throws(SealedEventsError) in
            try SubjectSealing(subjects, cache: cache, configuration: configuration, clock: clock)
        }
    }

    /// A new event id: a ULID (26 characters of Crockford base32, time-ordered to the millisecond).
    public static func makeEventId(at date: Date = Date()) -> String {
        let alphabet: StaticString = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        // The random bits from one system call (the standard library's generator makes one per 8 bytes).
        var random: (low: UInt64, high: UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { Random.fill($0) }
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
    /// The ESDK encryption context is `{"eventType": …, "domain": …}`. For an event type with a
    /// ``EventTypeDescriptor/subjectField``, the sealer reads the subject id there (a string or a number), resolves
    /// the subject's key (``SubjectKeys``), adds `"subjectKey": <branch key id>` to the context, and wraps the data
    /// key with that branch key alone (the AWS KMS Hierarchical keyring), so erasing the subject erases the event.
    ///
    /// - Returns: The sealed envelope.
    /// - Throws: ``SealedEventsError``: `alreadySealed`; `invalidArgument` (another event type, an invalid descriptor,
    ///   a keyring that did not use the descriptor's key, a missing subject, no ``SubjectKeys``); `accessDenied`
    ///   when KMS refuses the producer; `subjectErased` for an erased subject; `keyServiceFailure`.
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

        var context = ["eventType": descriptor.name, "domain": descriptor.domain]
        var wrapping = Wrapping.domainKey
        if let field = descriptor.subjectField, descriptor.sealing != .none {
            guard let subjects else {
                throw .invalidArgument(
                    "event type \(descriptor.name) seals per subject: the sealer needs SubjectKeys with a resolver"
                )
            }
            let key = try await subjects.key(of: envelope, at: field, descriptor: descriptor)
            context[SubjectKeys.contextKey] = key.branchKeyID
            wrapping = .subjectKey(key, try subjects.manager(table: key.keyStoreTable, kmsKeyARN: descriptor.keyArn))
        }
        switch descriptor.sealing {
        case .none:
            return envelope
        case .data:
            let plaintext = SealedPayload.encode(eventId: eventId, content: .data(envelope.data))
            let message = try await encrypt(plaintext, context: context, descriptor: descriptor, wrapping: wrapping)
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
            let message = try await encrypt(plaintext, context: context, descriptor: descriptor, wrapping: wrapping)
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

    /// What wraps an event's data key: the domain key, or a subject's branch key (with its materials manager).
    enum Wrapping {
        case domainKey
        case subjectKey(SubjectKey, CachingMaterialsManager)
    }

    private func encrypt(
        _ plaintext: [UInt8],
        context: [String: String],
        descriptor: EventTypeDescriptor,
        wrapping: Wrapping
    ) async throws(SealedEventsError) -> [UInt8] {
        let manager: CachingMaterialsManager
        switch wrapping {
        case .domainKey: manager = try managers.manager(descriptor.keyArn)
        case .subjectKey(_, let subjectManager): manager = subjectManager
        }
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
        if case .subjectKey(let key, _) = wrapping {
            guard message.header.encryptedDataKeys.map({ SealedMessage.branchKeyID(of: $0) }) == [key.branchKeyID] else {
                throw .invalidArgument("the data key of a subject-keyed event must be wrapped by its branch key alone")
            }
            return message.ciphertext
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

/// The sealer's side of ``SubjectKeys``: resolved subject keys and a caching materials manager per keystore table and
/// KMS key. Its data keys are cached for at most the erasure delay (``SubjectKeys/ttl``), and the cache entries of
/// different subjects never mix: the encryption context, part of the cache key, names the branch key.
final class SubjectSealing: Sendable {
    let keyrings: SubjectKeyrings
    let resolved: SubjectKeyCache
    let managers: @Sendable (HierarchicalKeyring) throws(SealedEventsError) -> CachingMaterialsManager
    private let byKeyStore = Mutex<[SubjectKeyrings.KeyStore: CachingMaterialsManager]>([:])

    init(
        _ subjects: SubjectKeys,
        cache: MaterialsCache,
        configuration: Sealer.Configuration,
        clock: some Clock<Duration>
    ) throws(SealedEventsError) {
        keyrings = try SubjectKeyrings(subjects, clock: clock)
        resolved = SubjectKeyCache(ttl: subjects.ttl, capacity: subjects.capacity, clock: clock)
        var shortened = configuration
        shortened.maxAge = min(configuration.maxAge, subjects.ttl)
        let limits = shortened
        managers = { keyring throws(SealedEventsError) in
            try MaterialsManagers.caching(keyring, cache: cache, configuration: limits, clock: clock)
        }
    }

    func manager(table: String, kmsKeyARN: String) throws(SealedEventsError) -> CachingMaterialsManager {
        let name = SubjectKeyrings.KeyStore(table: table, kmsKeyARN: kmsKeyARN)
        if let manager = byKeyStore.withLock({ $0[name] }) { return manager }
        let manager = try managers(try keyrings.keyring(table: table, kmsKeyARN: kmsKeyARN))
        return byKeyStore.withLock { managers in
            if let existing = managers[name] { return existing }
            managers[name] = manager
            return manager
        }
    }

    /// The subject's key: the subject id read at `field` (a non-empty string, or a number as written), resolved
    /// through the platform and cached for the erasure delay.
    func key(
        of envelope: Envelope,
        at field: JSONPointer,
        descriptor: EventTypeDescriptor
    ) async throws(SealedEventsError) -> SubjectKey {
        let eventId = envelope.metaData.eventId
        let subjectID: String
        switch try? envelope.data.value(at: field) {
        case .string(let text) where !text.isEmpty: subjectID = text
        case .number(let number): subjectID = number.literal
        case nil: throw .invalidArgument("event \(eventId) has no subject at \(field)")
        default: throw .invalidArgument("the subject of event \(eventId) at \(field) is not a string or a number")
        }
        guard let resolver = keyrings.configuration.resolver else {
            throw .invalidArgument("sealing per subject needs SubjectKeys with a resolver")
        }
        do {
            return try await resolved.key(subjectID: subjectID, eventType: descriptor.name) {
                try await resolver.subjectKey(subjectID: subjectID, eventType: descriptor.name)
            }
        } catch let error as SealedEventsError {
            throw error
        } catch {
            throw SealedEventsError(.keyServiceFailure, "the subject's key could not be resolved: \(error)")
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
