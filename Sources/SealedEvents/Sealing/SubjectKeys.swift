public import EncryptionSDK
public import KMS
internal import Synchronization

/// The key of one data subject for one event type, as the platform resolves it: the branch key its events are
/// sealed under, and the keystore table that holds it.
///
/// The branch key id is `<eventType>/<pseudonym>`: the pseudonym is the platform's keyed hash of the subject id, so
/// message headers, keystores, logs and audit records never carry the subject id itself.
public struct SubjectKey: Sendable, Hashable {
    /// The branch key id.
    public var branchKeyID: String
    /// The branch keystore's DynamoDB table (also its logical keystore name).
    public var keyStoreTable: String

    public init(branchKeyID: String, keyStoreTable: String) {
        self.branchKeyID = branchKeyID
        self.keyStoreTable = keyStoreTable
    }
}

/// Finds (creating on first use) the key of a data subject: the platform's `subjects:resolve`.
public protocol SubjectKeyResolver: Sendable {
    /// The subject's key for events of `eventType`.
    ///
    /// - Throws: ``SealedEventsError`` `subjectErased` when the subject was erased and the fence not lifted,
    ///   `accessDenied` when the caller may not seal the event type; anything else is a key service failure.
    func subjectKey(subjectID: String, eventType: String) async throws -> SubjectKey
}

/// How the SDK seals and opens events of event types that name a subject field (crypto-shredding): each
/// subject's events go under a branch key of its own, through the ESDK's AWS KMS Hierarchical keyring.
///
/// ``ttl`` is the **erasure delay**: how long a process keeps using what it cached about a subject — its branch
/// key (both sides), the resolved subject key and the data keys sealed under it (producers). After an erasure,
/// a consumer fails to open the subject's events within `ttl`, and a producer stops sealing for the subject
/// within `ttl` (events it seals in that window are unreadable to everyone, since their key is gone).
public struct SubjectKeys: Sendable {
    /// Resolves subjects to branch keys (producers; consumers do not need it).
    public var resolver: (any SubjectKeyResolver)?
    /// Opens the branch keystore of a table and KMS key: `KMS.BranchKeyStore` over DynamoDB and KMS, with the
    /// caller's credentials.
    public var keyStore: @Sendable (_ table: String, _ kmsKeyARN: String) throws -> any BranchKeyProvider
    /// The keystore table consumers read branch keys from (events do not name it; producers use the resolver's).
    public var defaultTable: String
    /// The erasure delay. Default 60 seconds.
    public var ttl: Duration
    /// The most branch keys and resolved subjects held at once. Default 1,000.
    public var capacity: Int

    /// The platform's keystore table.
    public static let platformTable = "sealed-branch-keys"
    /// The encryption context key that names a subject-keyed message's branch key.
    public static let contextKey = "subjectKey"

    public init(
        resolver: (any SubjectKeyResolver)? = nil,
        defaultTable: String = SubjectKeys.platformTable,
        ttl: Duration = .seconds(60),
        capacity: Int = 1_000,
        keyStore: @escaping @Sendable (_ table: String, _ kmsKeyARN: String) throws -> any BranchKeyProvider
    ) {
        self.resolver = resolver
        self.keyStore = keyStore
        self.defaultTable = defaultTable
        self.ttl = ttl
        self.capacity = capacity
    }
}

/// Branch keyrings per keystore table and KMS key, sharing one branch key cache: what ``Sealer`` and ``Opener``
/// build from ``SubjectKeys``.
final class SubjectKeyrings: Sendable {
    /// A keystore: its table and the KMS key that wraps its items.
    struct KeyStore: Hashable, Sendable {
        var table: String
        var kmsKeyARN: String
    }

    let configuration: SubjectKeys
    let cache: BranchKeyCache
    private let keyrings = Mutex<[KeyStore: HierarchicalKeyring]>([:])

    init(_ configuration: SubjectKeys, clock: some Clock<Duration>) throws(SealedEventsError) {
        self.configuration = configuration
        do throws(EncryptionSDKError) {
            cache = try BranchKeyCache(capacity: configuration.capacity, ttl: configuration.ttl, clock: clock)
        } catch {
            throw .invalidArgument("invalid subject key settings: \(error.reason)")
        }
    }

    /// The keyring that wraps with the branch key the encryption context's `subjectKey` names, from the keystore
    /// of `table` whose items `kmsKeyARN` wraps.
    func keyring(table: String, kmsKeyARN: String) throws(SealedEventsError) -> HierarchicalKeyring {
        let name = KeyStore(table: table, kmsKeyARN: kmsKeyARN)
        if let keyring = keyrings.withLock({ $0[name] }) { return keyring }
        let keyring: HierarchicalKeyring
        do {
            keyring = try HierarchicalKeyring(
                supplier: BranchKeyIDFromContext(key: SubjectKeys.contextKey),
                provider: configuration.keyStore(table, kmsKeyARN),
                cache: cache
            )
        } catch {
            throw .invalidArgument("no branch keystore for \(table) and \(kmsKeyARN): \(error)")
        }
        return keyrings.withLock { keyrings in
            if let existing = keyrings[name] { return existing }
            keyrings[name] = keyring
            return keyring
        }
    }
}

/// Resolved subject keys, kept for the erasure delay so that a producer asks the platform once per subject and
/// event type per TTL. The subject id is held only in this process's memory, never written anywhere.
final class SubjectKeyCache: Sendable {
    private struct Entry {
        var key: SubjectKey
        var expiry: Duration
    }

    private struct Name: Hashable {
        var eventType: String
        var subjectID: String
    }

    private let ttl: Duration
    private let capacity: Int
    private let now: @Sendable () -> Duration
    private let entries = Mutex<[Name: Entry]>([:])

    init(ttl: Duration, capacity: Int, clock: some Clock<Duration>) {
        self.ttl = ttl
        self.capacity = max(1, capacity)
        let start = clock.now
        self.now = { start.duration(to: clock.now) }
    }

    func key(
        subjectID: String,
        eventType: String,
        resolve: () async throws -> SubjectKey
    ) async throws -> SubjectKey {
        let name = Name(eventType: eventType, subjectID: subjectID)
        let now = self.now()
        if let entry = entries.withLock({ $0[name] }), entry.expiry > now { return entry.key }
        let key = try await resolve()
        entries.withLock { entries in
            if entries.count >= capacity { entries = entries.filter { $0.value.expiry > now } }
            if entries.count >= capacity, let any = entries.keys.first { entries[any] = nil }
            entries[name] = Entry(key: key, expiry: now + ttl)
        }
        return key
    }
}

extension SubjectKeys {
    /// Subject keys whose branch keystore is reached with `aws`: `KMS.BranchKeyStore` over a DynamoDB client and a KMS
    /// client signed with `credentials` (by default the configuration's). Point `aws` at `sealed serve` (one endpoint
    /// serves KMS and DynamoDB) or leave the endpoints out for real AWS.
    ///
    /// - Parameters:
    ///   - aws: Region and endpoints.
    ///   - credentials: Who reads the keystore: the producer, or a reader role's session.
    ///   - resolver: The platform (producers); `nil` for consumers.
    ///   - table: The keystore table consumers read (``defaultTable``); producers use the one the resolver names.
    ///   - options: Client retries and timeouts.
    ///   - ttl: The erasure delay.
    /// - Throws: ``SealedEventsError`` `invalidArgument` for endpoints the clients refuse.
    public static func keyStore(
        aws: AWSConfiguration,
        credentials: (any CredentialProvider)? = nil,
        resolver: (any SubjectKeyResolver)? = nil,
        table: String = SubjectKeys.platformTable,
        options: ClientOptions = ClientOptions(),
        ttl: Duration = .seconds(60)
    ) throws(SealedEventsError) -> SubjectKeys {
        let dynamoDB: DynamoDBClient
        let kms: KMSClient
        do {
            let credentials = credentials ?? aws.credentialProvider
            dynamoDB = try DynamoDBClient(
                region: aws.region,
                credentialProvider: credentials,
                endpoint: aws.dynamoDBEndpoint,
                options: options
            )
            kms = try KMSClient(region: aws.region, credentialProvider: credentials, endpoint: aws.kmsEndpoint, options: options)
        } catch {
            throw .invalidArgument("cannot reach the branch keystore: \(error)")
        }
        return SubjectKeys(resolver: resolver, defaultTable: table, ttl: ttl) { table, kmsKeyARN in
            try BranchKeyStore(
                tableName: table,
                logicalKeyStoreName: table,
                kmsKeyARN: kmsKeyARN,
                dynamoDB: dynamoDB,
                kms: kms
            )
        }
    }
}
