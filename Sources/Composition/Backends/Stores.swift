import AccessControl
import AuditTrail
import Catalog
import Crypto
import EventBus
import Foundation
import Logging
import KeyService
import PostgresStorage
import ServiceLifecycle
import Storage
import Subjects
import Tables

/// The stores of one storage back end, opened: everything the services keep, behind the domain's store protocols.
struct Stores: Sendable {
    /// The 256-bit key that seals key material and secrets at rest.
    var rootKey: SymmetricKey
    var identities: any IdentityStore
    var credentials: any CredentialStore
    var keys: any KeyStore
    var catalog: any CatalogStore
    var accessRequests: any AccessRequestStore
    /// Teams' webhooks (sealed) and their delivery log.
    var webhooks: any TeamWebhookStore
    var webhookDeliveries: any WebhookDeliveryStore
    /// Pseudonym secrets, subjects' branch keys and erasure fences.
    var subjects: any SubjectStore
    var groupOwners: any ConsumerGroupOwners
    /// The DynamoDB tables of the embedded table service (the branch keystore's).
    var tables: any TableStore
    var audit: any AuditStore
    var auditSigningKey: AuditSigningKey
    /// Where the newest signed digest is kept beside the trail, so a rewritten trail is noticed.
    var digestAnchor: (any DigestAnchor)?
    var exportAudit: @Sendable (_ file: URL, _ fromSequence: Int64) async throws -> Void
    var firstAuditSequence: @Sendable (Date) async throws -> Int64?
    /// Verifies the live trail: its chain, digests and anchor, as `sealed audit verify --data-dir` does.
    var verifyAudit: @Sendable () async throws -> VerificationReport
    /// Opens the embedded event bus beside the stores, with the service that must run beside it and its pruning.
    var embeddedBus: @Sendable (Resources) throws -> EmbeddedBus
    var administratorARN: String
    var dataDirectory: SealedPlatform.DataDirectoryInfo?
    /// The PostgreSQL database's installation, with that back end.
    var database: SealedPlatform.DatabaseInfo? = nil
    /// With PostgreSQL: the database, and how its replicas follow each other's changes and share the background work.
    var replication: Replication? = nil
    /// Writes what the audit store has queued and closes it, when it must be closed before its database.
    var closeAudit: (@Sendable () async -> Void)? = nil

    /// Opens the storage back end the configuration names; what must be closed is registered with `resources`.
    static func open(
        _ configuration: PlatformConfiguration,
        environment: [String: String],
        observer: (any PlatformObserver)?,
        resources: Resources,
        logger: Logger
    ) async throws -> Stores {
        switch configuration.storage {
        case .sqlite(let url):
            try sqlite(at: url, configuration, environment: environment, observer: observer, resources: resources)
        case .memory:
            memory(configuration)
        case .postgres(let options):
            try await postgres(options, configuration, environment: environment, observer: observer, logger: logger)
        }
    }

    /// The data directory: SQLite databases, the root key, the audit trail's files; locked for this process.
    static func sqlite(
        at url: URL,
        _ configuration: PlatformConfiguration,
        environment: [String: String],
        observer: (any PlatformObserver)?,
        resources: Resources
    ) throws -> Stores {
        // One writer per directory: the key cache below is exact only then.
        let lock = try DirectoryLock(directory: url)
        resources.onClose { withExtendedLifetime(lock) {} }
        let directory = try DataDirectory.open(
            at: url,
            environment: environment,
            account: configuration.accountID,
            region: configuration.region
        )
        resources.onClose { try directory.close() }
        let (auditStore, auditKey) = try directory.openAuditTrail(
            commitInterval: configuration.auditCommitInterval ?? LogAuditStore.defaultCommitInterval
        ) { commit in
            observer?.auditCommitted(records: commit.records, duration: commit.duration, succeeded: commit.succeeded)
        }
        resources.onClose { try auditStore.close() }
        let tables = try SQLiteTableStore(url: directory.url.appendingPathComponent(SQLiteTableStore.fileName))
        resources.onClose { try tables.close() }
        let database = directory.database
        return Stores(
            rootKey: directory.rootKey,
            identities: SQLiteIdentityStore(database: database),
            credentials: directory.credentialStore,
            keys: CachingKeyStore(directory.keyStore),
            catalog: SQLiteCatalogStore(database: database),
            accessRequests: SQLiteAccessRequestStore(database: database),
            webhooks: SQLiteWebhookStore(database: database, rootKey: directory.rootKey),
            webhookDeliveries: SQLiteWebhookStore(database: database, rootKey: directory.rootKey),
            subjects: SQLiteSubjectStore(database: database, rootKey: directory.rootKey),
            groupOwners: SQLiteConsumerGroupOwners(database: database),
            tables: tables,
            audit: auditStore,
            auditSigningKey: auditKey,
            digestAnchor: directory.auditDigestAnchor,
            exportAudit: { file, first in
                _ = try await auditStore.export(to: file, fromSequence: first, publicKey: auditKey.publicKey)
            },
            firstAuditSequence: { try await auditStore.firstSequence(since: $0) },
            verifyAudit: { [anchor = directory.auditDigestAnchor] in
                try await auditStore.verify(
                    publicKey: auditKey.publicKey,
                    anchor: try anchor.load(),
                    unsignedLimit: Verifier.UnsignedLimit(reference: Date())
                )
            },
            embeddedBus: { resources in
                let bus = try SQLiteTransport(path: directory.url.appendingPathComponent("bus.sqlite").path)
                resources.onClose { try bus.close() }
                return EmbeddedBus(transport: bus, prune: { try await bus.prune() })
            },
            administratorARN: directory.administratorARN,
            dataDirectory: SealedPlatform.DataDirectoryInfo(
                url: directory.url,
                wasCreated: directory.wasCreated,
                administratorCredentials: directory.administratorCredentialsURL
            )
        )
    }

    /// Everything in memory under a fresh root key.
    static func memory(_ configuration: PlatformConfiguration) -> Stores {
        let audit = InMemoryAuditStore()
        let auditKey = AuditSigningKey.generate()
        let webhooks = InMemoryWebhookStore()
        return Stores(
            rootKey: SymmetricKey(size: .bits256),
            identities: InMemoryIdentityStore(),
            credentials: InMemoryCredentialStore(),
            keys: InMemoryKeyStore(),
            catalog: InMemoryCatalogStore(),
            accessRequests: InMemoryAccessRequestStore(),
            webhooks: webhooks,
            webhookDeliveries: webhooks,
            subjects: InMemorySubjectStore(),
            groupOwners: InMemoryConsumerGroupOwners(),
            tables: InMemoryTableStore(),
            audit: audit,
            auditSigningKey: auditKey,
            digestAnchor: nil,
            exportAudit: { file, first in
                _ = try await audit.export(to: file, fromSequence: first, publicKey: auditKey.publicKey)
            },
            firstAuditSequence: { try await audit.query(AuditQuery(since: $0, limit: 1)).first?.sequence },
            verifyAudit: {
                await audit.verify(
                    publicKey: auditKey.publicKey,
                    unsignedLimit: Verifier.UnsignedLimit(reference: Date())
                )
            },
            embeddedBus: { _ in EmbeddedBus(transport: InMemoryTransport()) },
            administratorARN:
                "arn:aws:iam::\(configuration.accountID):user/\(DataDirectory.administratorUserName)",
            dataDirectory: nil
        )
    }
}

/// The embedded bus of a storage back end: its transport, the service it needs running (a listener), and how its
/// expired events are deleted (``BusRetentionService``; `nil` for the bus in memory, which drops them as it goes).
struct EmbeddedBus {
    var transport: any Transport
    var service: (any Service)? = nil
    var prune: (@Sendable () async throws -> Int)? = nil
}
