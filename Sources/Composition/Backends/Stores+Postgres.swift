import AccessControl
import AuditTrail
import Crypto
import Foundation
import KeyService
import Logging
import PostgresStorage
import Storage

/// How the replicas of one PostgreSQL database keep each other's state fresh and share the background work.
struct Replication: Sendable {
    let database: PostgresDatabase
    /// The changes other replicas (and this one) commit, which the services' in-memory state follows.
    let changes: PostgresChangeFeed
    /// Who runs each background service, once across the replicas.
    let leadership: PostgresLeadership
    /// The version of the cached keys, aliases and access keys, read once per batch of requests.
    let cacheEpoch: PostgresCacheEpoch
}

/// Each request's lookups share one read of the cache epoch.
struct CacheEpochScope: RequestScope {
    let epoch: PostgresCacheEpoch

    func run<R>(isolation: isolated (any Actor)?, _ body: () async throws -> R) async throws -> R {
        try await epoch.request(isolation: isolation, body)
    }
}

extension Stores {
    /// A PostgreSQL database shared by any number of replicas: every store in it, the embedded bus on
    /// ``PostgresStorage/PostgresTransport``, the audit trail on ``PostgresStorage/PostgresAuditStore``.
    ///
    /// **Keys, aliases and access keys are cached while the cache epoch stays put**
    /// (``PostgresStorage/PostgresCacheEpoch``): each request reads the epoch once, in a read shared with the requests
    /// that arrived with it, so a key disabled or an access key deleted through any replica is refused by every
    /// replica for every request that arrives after the change committed. The identities, catalog and access requests
    /// the services keep in memory are reloaded on the change feed's notifications (``ReplicaSync``).
    static func postgres(
        _ options: PlatformConfiguration.PostgresOptions,
        _ configuration: PlatformConfiguration,
        environment: [String: String],
        observer: (any PlatformObserver)?,
        logger: Logger
    ) async throws -> Stores {
        let database = options.database
        let rootKey = try rootKey(options, environment: environment)
        // The check value first: a replica given another root key stops here, before anything is served.
        let installation = try await PostgresInstallation.open(
            database: database,
            rootKey: rootKey,
            account: configuration.accountID,
            region: configuration.region,
            administratorCredentials: options.administratorCredentials
        )
        let (audit, auditKey) = try await PostgresAuditStore.openTrail(
            database: database,
            rootKey: rootKey,
            commitInterval: configuration.auditCommitInterval ?? PostgresAuditStore.defaultCommitInterval,
            logger: logger
        ) { commit in
            observer?.auditCommitted(records: commit.records, duration: commit.duration, succeeded: commit.succeeded)
        }
        let webhooks = PostgresWebhookStore(database: database, rootKey: rootKey)
        let cacheEpoch = PostgresCacheEpoch(database: database) { read in
            observer?.cacheEpochRead(
                callers: read.callers,
                duration: read.duration,
                succeeded: read.succeeded,
                moved: read.moved
            )
        }
        return Stores(
            rootKey: rootKey,
            identities: PostgresIdentityStore(database: database),
            credentials: PostgresCredentialStore(database: database, rootKey: rootKey, cacheEpoch: cacheEpoch),
            keys: PostgresKeyStore(database: database, cacheEpoch: cacheEpoch),
            catalog: PostgresCatalogStore(database: database),
            accessRequests: PostgresAccessRequestStore(database: database),
            webhooks: webhooks,
            webhookDeliveries: webhooks,
            subjects: PostgresSubjectStore(database: database, rootKey: rootKey),
            groupOwners: PostgresConsumerGroupOwners(database: database),
            tables: PostgresTableStore(database: database),
            audit: audit,
            auditSigningKey: auditKey,
            digestAnchor: nil,
            exportAudit: { file, first in
                _ = try await audit.export(to: file, fromSequence: first, publicKey: auditKey.publicKey)
            },
            firstAuditSequence: { try await audit.firstSequence(since: $0) },
            verifyAudit: {
                try await audit.verify(
                    publicKey: auditKey.publicKey,
                    anchor: nil,
                    unsignedLimit: Verifier.UnsignedLimit(reference: Date())
                )
            },
            embeddedBus: { _ in
                let transport = PostgresTransport(database: database, logger: logger)
                return EmbeddedBus(
                    transport: transport,
                    service: RunningService(name: "bus listener") { await transport.run() },
                    prune: { try await transport.prune() }
                )
            },
            administratorARN: installation.administratorARN,
            dataDirectory: nil,
            database: SealedPlatform.DatabaseInfo(
                description: database.url.description,
                wasCreated: installation.wasCreated,
                administratorCredentials: installation.wasCreated ? options.administratorCredentials : nil
            ),
            replication: Replication(
                database: database,
                changes: PostgresChangeFeed(database: database, logger: logger),
                leadership: PostgresLeadership(database: database, logger: logger),
                cacheEpoch: cacheEpoch
            ),
            closeAudit: { await audit.close() }
        )
    }

    /// `SEALED_ROOT_KEY`, or the root key file; one of them is required.
    private static func rootKey(
        _ options: PlatformConfiguration.PostgresOptions,
        environment: [String: String]
    ) throws -> SymmetricKey {
        if let encoded = environment[DataDirectory.rootKeyVariable] {
            return try DataDirectory.parseRootKey(encoded, source: DataDirectory.rootKeyVariable)
        }
        guard let file = options.rootKeyFile else {
            throw StorageError(
                .missingRootKey,
                "PostgreSQL storage needs the root key: set \(DataDirectory.rootKeyVariable) (base64 of 32 bytes) or "
                    + "give --root-key-file PATH (mode 0600), the same on every replica."
            )
        }
        guard let key = try DataDirectory.readRootKey(file) else {
            throw StorageError(.missingRootKey, "The root key file \(file.path) does not exist.")
        }
        return key
    }
}
