public import EncryptionSDK
internal import Foundation
public import KMS
public import Logging
internal import SealedSupport

/// Opens sealed events at the consumer, after checking that the sealed payload belongs to its envelope.
///
/// Before asking any key service for a data key, the opener checks the envelope as ``SealedMessage`` describes
/// (format, suite, encryption context equal to the ESDK header's and naming the envelope's `eventType` and
/// `domain`, a data key wrapped by `metaData.encryption.keyArn`, markers in place). After decrypting it checks the
/// binding: the payload's `eventId` must be the envelope's, and for field sealing its pointers must be
/// `metaData.encryption.sealedFields`, in order. A sealed `data` copied into another event, a tampered
/// `metaData.encryption` or swapped field pointers fail with `bindingMismatch`; a failed open returns no
/// plaintext.
///
/// Field-level opening puts every value back in its place, so the opened `data` equals the producer's, member
/// order and number spelling included.
///
/// **Data-key cache and revocation.** Decrypted data keys are cached (the ESDK caching CMM, bounded by
/// ``Configuration/capacity``), so events sealed under one cached producer data key cost one key-service call.
/// A cached key is used for at most ``Configuration/maxAge`` (default 5 minutes) after it was decrypted: that is
/// the revocation delay. When access is revoked, new data keys are refused at once, and keys this opener already
/// holds keep opening events for up to `maxAge`.
public struct Opener: Sendable {
    /// Cache bounds and role-session settings.
    public struct Configuration: Sendable {
        /// The longest a decrypted data key is reused: the revocation delay. Default 5 minutes.
        public var maxAge: Duration
        /// The most data keys held at once. Default 1,000.
        public var capacity: Int
        /// The reader-role session's lifetime, asked of STS `AssumeRole`. Default 1 hour.
        public var sessionDuration: Duration
        /// How long before the session expires it is renewed. Default 5 minutes.
        public var sessionRefreshWindow: Duration

        public init(
            maxAge: Duration = .seconds(300),
            capacity: Int = 1_000,
            sessionDuration: Duration = .seconds(3600),
            sessionRefreshWindow: Duration = .seconds(300)
        ) {
            self.maxAge = maxAge
            self.capacity = capacity
            self.sessionDuration = sessionDuration
            self.sessionRefreshWindow = sessionRefreshWindow
        }
    }

    public let configuration: Configuration
    private let manager: CachingMaterialsManager
    private let subjects: SubjectKeyrings?
    private let client = EncryptionClient()
    private let logger: Logger

    /// An opener that unwraps data keys with `keyring` (raw keys, a multi-keyring, or a ``KMS/KMSKeyring``).
    ///
    /// Subject-keyed events (their encryption context names a `subjectKey`) are opened with the AWS KMS
    /// Hierarchical keyring over `subjects`' keystore instead, without caching their data keys: a subject's events
    /// stop opening within ``SubjectKeys/ttl`` (the erasure delay) of the subject's erasure.
    ///
    /// - Parameters:
    ///   - keyring: Unwraps the data keys.
    ///   - subjects: The branch keystore of subject-keyed events; `nil` when the consumer opens none.
    ///   - configuration: Cache bounds; ``Configuration/maxAge`` is the revocation delay.
    ///   - clock: The clock cache ages are measured on.
    ///   - logger: Receives debug records (event ids, error codes; never data).
    /// - Throws: ``SealedEventsError`` `invalidArgument` for cache bounds the ESDK rejects.
    public init(
        keyring: any Keyring,
        subjects: SubjectKeys? = nil,
        configuration: Configuration = Configuration(),
        clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "sealed-events", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SealedEventsError) {
        self.configuration = configuration
        self.logger = logger
        do throws(EncryptionSDKError) {
            manager = try CachingMaterialsManager(
                keyring: keyring,
                cache: MaterialsCache(capacity: configuration.capacity),
                maxAge: configuration.maxAge,
                clock: clock
            )
        } catch {
            throw .invalidArgument("invalid data key cache bounds: \(error.reason)")
        }
        self.subjects = try subjects.map { subjects throws(SealedEventsError) in
            try SubjectKeyrings(subjects, clock: clock)
        }
    }

    /// An opener for one event type that gets its own access: it assumes the event type's reader role with the
    /// consumer's base credentials (STS `AssumeRole`, session name ``sessionName(for:)``, renewed before it
    /// expires), and decrypts with a strict KMS keyring for the event type's key, signed with the role session. For
    /// an event type with a ``EventTypeDescriptor/subjectField`` it also reads the platform's branch keystore
    /// (``SubjectKeys/keyStore(aws:credentials:resolver:table:options:ttl:)``) with the same session.
    ///
    /// Nothing is called until the first ``open(_:as:)``. If the consumer may not assume the role, or the role may
    /// not decrypt, opening throws `accessDenied` naming the key, the event type and the access-request command.
    ///
    /// - Parameters:
    ///   - descriptor: The event type; its ``EventTypeDescriptor/readerRoleArn`` is required.
    ///   - aws: Region, endpoints and the consumer's base credentials.
    ///   - consumer: The consumer's name (a service name), used for the role session name.
    ///   - options: KMS/STS client retries and timeouts.
    ///   - configuration: Cache bounds and session settings.
    ///   - clock: The clock cache ages and session expiry are measured on.
    ///   - logger: Receives debug records.
    /// - Returns: The opener.
    /// - Throws: ``SealedEventsError`` `invalidArgument` (no reader role, a bad key ARN or endpoint).
    public static func assumingReaderRole<C: Clock>(
        of descriptor: EventTypeDescriptor,
        aws: AWSConfiguration,
        consumer: String,
        options: ClientOptions = ClientOptions(),
        configuration: Configuration = Configuration(),
        clock: C,
        logger: Logger = Logger(label: "sealed-events", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SealedEventsError) -> Opener where C.Duration == Duration {
        guard let role = descriptor.readerRoleArn, !role.isEmpty else {
            throw .invalidArgument("event type \(descriptor.name) has no reader role")
        }
        let seconds = Int(configuration.sessionDuration.components.seconds)
        do {
            let sts = try STSClient(
                region: aws.region,
                credentialProvider: aws.credentialProvider,
                endpoint: aws.stsEndpoint,
                options: options,
                logger: logger
            )
            let session = RefreshingCredentialProvider.assumingRole(
                AssumeRoleRequest(roleArn: role, roleSessionName: sessionName(for: consumer), durationSeconds: seconds),
                sts: sts,
                clock: clock,
                refreshWindow: configuration.sessionRefreshWindow
            )
            let kms = try KMSClient(
                region: aws.region,
                credentialProvider: session,
                endpoint: aws.kmsEndpoint,
                options: options,
                logger: logger
            )
            let keyring = try KMSKeyring(generatorKeyId: nil, keyIds: [descriptor.keyArn], client: kms)
            let subjects =
                descriptor.subjectField == nil
                ? nil : try SubjectKeys.keyStore(aws: aws, credentials: session, options: options)
            return try Opener(
                keyring: keyring,
                subjects: subjects,
                configuration: configuration,
                clock: clock,
                logger: logger
            )
        } catch let error as SealedEventsError {
            throw error
        } catch {
            throw .invalidArgument("cannot build the reader-role opener: \(error)")
        }
    }

    /// An opener on the continuous clock; see ``assumingReaderRole(of:aws:consumer:options:configuration:clock:logger:)``.
    public static func assumingReaderRole(
        of descriptor: EventTypeDescriptor,
        aws: AWSConfiguration,
        consumer: String,
        options: ClientOptions = ClientOptions(),
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "sealed-events", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(SealedEventsError) -> Opener {
        try assumingReaderRole(
            of: descriptor,
            aws: aws,
            consumer: consumer,
            options: options,
            configuration: configuration,
            clock: ContinuousClock(),
            logger: logger
        )
    }

    /// The role session name for a consumer: `sealed-` and the consumer's name, with characters STS does not allow
    /// (outside `A-Za-z0-9+=,.@_-`) replaced by `-`, cut to STS's 64 characters.
    public static func sessionName(for consumer: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-".unicodeScalars)
        let cleaned = String(String.UnicodeScalarView(consumer.unicodeScalars.map { allowed.contains($0) ? $0 : "-" }))
        return String(("sealed-" + (cleaned.isEmpty ? "consumer" : cleaned)).prefix(64))
    }

    /// Opens a sealed event.
    ///
    /// - Parameters:
    ///   - envelope: The sealed envelope.
    ///   - descriptor: The event type's catalog entry; when given, the envelope must match it (type, domain, key,
    ///     suite and scope, see ``SealedMessage/init(_:descriptor:)``).
    /// - Returns: The event with its original data.
    /// - Throws: ``SealedEventsError``: `accessDenied` (with ``SealedEventsError/accessDenied`` set),
    ///   `bindingMismatch`, `authenticationFailed`, `malformedEnvelope`, `notSealed`, `unsupportedFormat`,
    ///   `unsupportedAlgorithmSuite`, `keyServiceFailure`.
    public func open(
        _ envelope: Envelope,
        as descriptor: EventTypeDescriptor? = nil
    ) async throws(SealedEventsError)
        -> OpenedEvent
    {
        let metaData = envelope.metaData
        do throws(SealedEventsError) {
            let sealed: SealedMessage
            if let descriptor {
                sealed = try SealedMessage(envelope, descriptor: descriptor)
            } else {
                sealed = try SealedMessage(envelope)
            }
            let plaintext = try await decrypt(sealed, eventType: metaData.eventType)
            let payload = try SealedPayload.decode(plaintext)
            guard payload.eventId.hasSameUTF8(as: metaData.eventId) else {
                throw SealedEventsError.binding("the sealed payload belongs to another event than \(metaData.eventId)")
            }
            var data: JSONValue
            switch (sealed.encryption.scope, payload.content) {
            case (.data, .data(let value)):
                data = value
            case (.fields, .fields(let fields)):
                let pointers = sealed.encryption.sealedFields ?? []
                guard fields.count == pointers.count, zip(fields, pointers).allSatisfy({ $0.pointer == $1 }) else {
                    throw SealedEventsError.binding(
                        "the sealed fields' pointers differ from metaData.encryption.sealedFields"
                    )
                }
                data = envelope.data
                for field in fields { try data.setValue(field.value, at: field.pointer) }
            default:
                throw SealedEventsError.binding("the sealed payload's scope differs from metaData.encryption.scope")
            }
            return OpenedEvent(metaData: metaData, data: data, sealedFields: [], denial: nil)
        } catch {
            logger.debug(
                "opening failed",
                metadata: [
                    "eventId": .string(metaData.eventId), "eventType": .string(metaData.eventType),
                    "code": .string(error.code.description),
                ]
            )
            throw error
        }
    }

    /// Decrypts the sealed message: with the cached data keys of ``manager``, or — subject-keyed — with the branch
    /// keystore and no data key cache.
    private func decrypt(_ sealed: SealedMessage, eventType: String) async throws(SealedEventsError) -> [UInt8] {
        let encryption = sealed.encryption
        do {
            // The header was parsed (and checked) by SealedMessage; the client does not parse it again.
            if let branchKeyID = encryption.encryptionContext[SubjectKeys.contextKey] {
                guard let subjects else {
                    throw SealedEventsError.invalidArgument(
                        "event type \(eventType) is sealed per subject (\(branchKeyID)): the opener needs SubjectKeys"
                    )
                }
                let keyring = try subjects.keyring(table: subjects.configuration.defaultTable, kmsKeyARN: encryption.keyArn)
                return try await client.decrypt(
                    sealed.bytes,
                    header: sealed.header,
                    materialsManager: DefaultMaterialsManager(keyring: keyring),
                    encryptionContext: encryption.encryptionContext
                ).plaintext
            }
            return try await client.decrypt(
                sealed.bytes,
                header: sealed.header,
                materialsManager: manager,
                encryptionContext: encryption.encryptionContext
            ).plaintext
        } catch {
            throw KeyServiceErrors.map(error, keyArn: encryption.keyArn, eventType: eventType)
        }
    }

    /// Opens a sealed event, or — when `redacting` is `true` and access is denied — returns the redacted view: the
    /// metadata and the readable fields, with sealed places holding ``Envelope/sealedMarker`` and listed in
    /// ``OpenedEvent/sealedFields``, and ``OpenedEvent/denial`` saying why.
    ///
    /// Only `accessDenied` and `subjectErased` become a redacted view (an erased subject's sealed places hold
    /// ``Envelope/erasedMarker``); a tampered or malformed envelope still throws.
    ///
    /// - Returns: The opened event, or its redacted view.
    /// - Throws: ``SealedEventsError`` as ``open(_:as:)``, except `accessDenied` when `redacting`.
    public func open(
        _ envelope: Envelope,
        as descriptor: EventTypeDescriptor? = nil,
        redacting: Bool
    ) async throws(SealedEventsError) -> OpenedEvent {
        do throws(SealedEventsError) {
            return try await open(envelope, as: descriptor)
        } catch where redacting && (error.code == .accessDenied || error.code == .subjectErased) {
            let marker = error.code == .subjectErased ? Envelope.erasedMarker : Envelope.sealedMarker
            var view = try Opener.redactedView(of: envelope, marker: marker)
            view.denial = error
            return view
        }
    }

    /// The redacted view of a sealed event, without decrypting anything: the metadata and readable fields, with
    /// sealed places holding ``Envelope/sealedMarker`` and listed in ``OpenedEvent/sealedFields`` (the root pointer
    /// when the whole data is sealed). An event that is not sealed comes back whole.
    ///
    /// - Throws: ``SealedEventsError`` as ``SealedMessage/init(_:)`` (except `notSealed`).
    public static func redactedView(of envelope: Envelope) throws(SealedEventsError) -> OpenedEvent {
        try redactedView(of: envelope, marker: Envelope.sealedMarker)
    }

    static func redactedView(of envelope: Envelope, marker: JSONValue) throws(SealedEventsError) -> OpenedEvent {
        guard envelope.metaData.encryption != nil else {
            return OpenedEvent(metaData: envelope.metaData, data: envelope.data, sealedFields: [], denial: nil)
        }
        let sealed = try SealedMessage(envelope)
        switch sealed.encryption.scope {
        case .data:
            return OpenedEvent(metaData: envelope.metaData, data: marker, sealedFields: [.root], denial: nil)
        default:
            var data = envelope.data
            let pointers = sealed.encryption.sealedFields ?? []
            if marker != Envelope.sealedMarker {
                for pointer in pointers { try data.setValue(marker, at: pointer) }
            }
            return OpenedEvent(metaData: envelope.metaData, data: data, sealedFields: pointers, denial: nil)
        }
    }
}

/// An opened event, or the redacted view of one.
public struct OpenedEvent: Sendable, Hashable {
    /// The envelope's metadata (with its encryption block).
    public let metaData: MetaData
    /// The data: the producer's original when opened; with ``Envelope/sealedMarker`` at each sealed place in a
    /// redacted view.
    public let data: JSONValue
    /// The places still sealed: empty when opened; the root pointer when the whole data is sealed.
    public let sealedFields: [JSONPointer]
    /// Why the view is redacted (an `accessDenied` error), or `nil`.
    public internal(set) var denial: SealedEventsError?

    /// Whether every sealed part was opened.
    public var isComplete: Bool { sealedFields.isEmpty }

    public init(metaData: MetaData, data: JSONValue, sealedFields: [JSONPointer], denial: SealedEventsError?) {
        self.metaData = metaData
        self.data = data
        self.sealedFields = sealedFields
        self.denial = denial
    }
}
