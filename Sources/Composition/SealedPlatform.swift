public import AccessControl
public import AuditTrail
public import Catalog
public import EventBus
public import Foundation
import JetStreamBus
public import KeyService
public import Logging
import PostgresStorage
public import ServiceLifecycle
import Storage
public import Subjects
public import Tables

/// The platform, wired: its services over the back ends a ``PlatformConfiguration`` names, ready for an edge (the
/// HTTP server, a test) to serve.
///
/// ``build(_:environment:observer:logger:)`` is the one place the back ends are chosen — one `switch` each: the
/// storage (SQLite data directory, a PostgreSQL database shared by replicas, or memory), the keys (the embedded key
/// service), the bus (embedded or NATS JetStream). Run ``services`` in the edge's `ServiceGroup` before its own (services stop in reverse order, so the
/// last audit digest, signed at shutdown, covers every request answered), and ``close()`` once they stopped.
///
/// ```swift
/// let platform = try await SealedPlatform.build(configuration, logger: logger)
/// defer { platform.close() }
/// let server = SealedServer(platform, configuration: .init(port: 8080), metrics: metrics, logger: logger)
/// try await ServiceGroup(services: platform.services + server.services(), …).run()
/// ```
public struct SealedPlatform: Sendable {
    /// The audit trail: what `/v1/audit` reads, and where requests' records go.
    public struct Audit: Sendable {
        public let store: any AuditStore
        /// Where every signed request's record goes: the store, unless the ``PlatformConfiguration/auditMode`` says
        /// otherwise (`nil`: no audit at all).
        public let sink: (any AuditSink)?
        public let signingKey: AuditSigningKey
        /// Writes an export of the records from a sequence number to a file.
        public let export: @Sendable (_ file: URL, _ fromSequence: Int64) async throws -> Void
        /// The first sequence number at or after a date.
        public let firstSequence: @Sendable (Date) async throws -> Int64?
        /// Verifies the live trail (its chain, its digests, the anchor kept beside it) as `sealed audit verify` does.
        public let verify: @Sendable () async throws -> VerificationReport
    }

    /// The event bus and its publish rules.
    public struct Bus: Sendable {
        public let transport: any Transport
        public let governor: PublishGovernor
        public let groupOwners: any ConsumerGroupOwners
    }

    /// The data directory of the ``PlatformConfiguration/Storage/sqlite(dataDirectory:)`` back end.
    public struct DataDirectoryInfo: Sendable, Hashable {
        public let url: URL
        /// Whether this start created it.
        public let wasCreated: Bool
        /// `DIR/admin.credentials`: the administrator's access key (profile `sealed-admin`).
        public let administratorCredentials: URL
    }

    /// The PostgreSQL database of the ``PlatformConfiguration/Storage/postgres(_:)`` back end.
    public struct DatabaseInfo: Sendable, Hashable {
        /// The database's URL, its password hidden.
        public let description: String
        /// Whether this replica installed it (first start on an empty database).
        public let wasCreated: Bool
        /// Where this replica wrote the administrator's credentials, when it installed the database.
        public let administratorCredentials: URL?
    }

    public let configuration: PlatformConfiguration
    public let identities: IdentityService
    /// The callers' access keys (users' and role sessions').
    public let credentials: any CredentialStore
    public let keyService: KeyService
    public let catalog: EventCatalog
    public let access: AccessRequests
    /// Teams' outgoing webhooks; the access workflow's notifications go to them through the ``services``.
    public let webhooks: TeamWebhooks
    /// Data subjects: pseudonyms, their branch keys in the platform's branch keystore (``tables``), erasure.
    public let subjects: SubjectService
    public let audit: Audit
    public let bus: Bus
    /// The DynamoDB subset of the branch keystore's tables, authorized by the callers' identity policies.
    public let tables: TableService
    /// The administrator's ARN (`arn:aws:iam::ACCOUNT:user/admin`).
    public let administratorARN: String
    /// With SQLite storage, where the data is; `nil` in memory.
    public let dataDirectory: DataDirectoryInfo?
    /// With PostgreSQL storage, the database.
    public let database: DatabaseInfo?
    /// What runs beside the edge, to start before it: the audit digest signer, the bus's connections.
    public let services: [any Service]
    /// In AWS mode, the governed account.
    public let aws: AWSAccount?
    /// What every request runs inside: with PostgreSQL, the request's one read of the cache epoch shared by its
    /// lookups (``PostgresStorage/PostgresCacheEpoch``); `nil` otherwise.
    public let requestScope: (any RequestScope)?
    let resources: Resources
    /// With PostgreSQL, who runs each background service.
    let leadership: PostgresLeadership?
    let logger: Logger

    /// `service` as it must run for `role`: as it is with one process, under leader election (one replica at a time,
    /// taken over when it dies) when replicas share a PostgreSQL database. The edge wraps its background services
    /// (key maintenance, access expiry) with it.
    public func exclusive(_ role: BackgroundRole, _ service: any Service) -> any Service {
        Self.exclusive(role, service, leadership: leadership, logger: logger)
    }

    static func exclusive(
        _ role: BackgroundRole,
        _ service: any Service,
        leadership: PostgresLeadership?,
        logger: Logger
    ) -> any Service {
        guard let leadership else { return service }
        return LeaderService(role: role, service: service, leadership: leadership, logger: logger)
    }

    /// Releases the back ends (the bus, the audit store, the database, the directory lock), once. Call it after
    /// ``services`` stopped; the platform must not be used afterwards.
    public func close() { resources.close() }

    /// Opens the back ends the configuration names and wires the platform's services over them.
    ///
    /// - Parameters:
    ///   - configuration: What to build.
    ///   - environment: Where `SEALED_ROOT_KEY` is looked up (the process environment, or a test's dictionary).
    ///   - observer: Told of audit commits and tampering (the edge's metrics).
    ///   - now: The wall clock of every service (identities, keys, catalog, access requests): a test moves it by hand.
    ///   - logger: The platform's logger.
    /// - Throws: The back ends' errors (`StorageError` for a data directory that cannot be used, …); whatever was
    ///   opened is closed again.
    public static func build(
        _ configuration: PlatformConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        observer: (any PlatformObserver)? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) async throws -> SealedPlatform {
        let resources = Resources()
        do {
            return try await build(
                configuration,
                environment: environment,
                observer: observer,
                now: now,
                logger: logger,
                resources: resources
            )
        } catch {
            resources.close()
            throw error
        }
    }

    private static func build(
        _ configuration: PlatformConfiguration,
        environment: [String: String],
        observer: (any PlatformObserver)?,
        now: @escaping @Sendable () -> Date,
        logger: Logger,
        resources: Resources
    ) async throws -> SealedPlatform {
        var configuration = configuration
        var aws: AWSAccount?
        if let access = configuration.aws {
            let account = try await AWSAccount.connect(access, environment: environment, logger: logger)
            aws = account
            // ARNs name the governed account, so its users and roles are the platform's principals.
            configuration.accountID = account.account
            configuration.region = account.region
        }
        let stores = try await Stores.open(
            configuration,
            environment: environment,
            observer: observer,
            resources: resources,
            logger: logger
        )
        aws = try aws?.with(serverIDIn: stores.dataDirectory?.url)
        let identities = try await IdentityService(
            account: configuration.accountID,
            store: stores.identities,
            credentials: stores.credentials,
            now: now
        )
        if let aws {
            for administrator in aws.administrators {
                try await identities.ensureAdministrator(principal: administrator)
            }
        } else {
            try await identities.ensureAdministrator(named: DataDirectory.administratorUserName)
        }
        let keyService: KeyService
        switch configuration.keys {
        case .embedded:
            keyService = try KeyService(
                configuration: .init(region: configuration.region, accountID: configuration.accountID),
                store: stores.keys,
                rootKey: stores.rootKey,
                authorizer: PolicyAuthorizer(identities: identities),
                now: now
            )
        }
        let catalog = try await EventCatalog(
            identities: identities,
            store: stores.catalog,
            keys: aws.map { AWSKeyProvisioner(governor: $0.governor, identities: identities) as any KeyProvisioner }
                ?? KeyServiceProvisioner(keyService: keyService, administrator: stores.administratorARN),
            now: now
        )
        // A catalog made by an older version gets the statements its roles and teams lack now.
        try await catalog.refreshPolicies()
        let tables = TableService(
            configuration: .init(region: configuration.region, accountID: configuration.accountID),
            store: stores.tables,
            authorizer: TablePolicyAuthorizer(identities: identities),
            now: now
        )
        let subjects = SubjectService(
            catalog: catalog,
            store: stores.subjects,
            custodian: PlatformBranchKeys(
                keyStore: KeyStoreName(
                    tableName: EventCatalog.keyStoreTableName,
                    logicalKeyStoreName: EventCatalog.keyStoreTableName
                ),
                tables: tables,
                keyService: keyService,
                administrator: stores.administratorARN
            ),
            now: now
        )
        let auditSink = auditSink(of: stores.audit, mode: configuration.auditMode, logger: logger)
        let webhooks = TeamWebhooks(
            identities: identities,
            store: stores.webhooks,
            deliveries: stores.webhookDeliveries,
            now: now
        )
        let dispatcher = WebhookDispatcher(
            webhooks: webhooks,
            deliveries: stores.webhookDeliveries,
            policy: configuration.webhookRetry,
            now: now,
            report: { WebhookService.log($0, to: logger) }
        )
        let access = try await AccessRequests(
            identities: identities,
            directory: catalog,
            store: stores.accessRequests,
            events: auditSink.map {
                AuditedAccessEvents(sink: $0, region: configuration.region, account: configuration.accountID)
            },
            notifications: dispatcher,
            grants: aws.map { AWSAccountGrants(governor: $0.governor) },
            pendingLifetime: TimeInterval(configuration.pendingRequestLifetime.components.seconds),
            now: now
        )
        let repaired = try await access.reconcileGrants()
        if !repaired.isEmpty {
            logger.warning(
                "Access grants repaired at start: a crash had left trust policies apart from their requests",
                metadata: ["requests": .string(repaired.map(\.id).joined(separator: ","))]
            )
        }
        let drift = aws.map { aws in
            AWSDriftService(
                account: aws,
                catalog: catalog,
                access: access,
                sink: auditSink,
                interval: configuration.aws?.driftCheckInterval ?? .seconds(3600),
                logger: logger
            )
        }
        // With replicas another process may be between its edit in AWS and storing the request right now, so only a
        // server that owns its data alone repairs at start; replicas leave it to the drift check and `aws check --fix`.
        if stores.replication == nil, let repairedInAWS = try await drift?.reconcileGrants(), !repairedInAWS.isEmpty {
            logger.warning(
                "AWS grants repaired at start: a crash had left trust policies apart from the stored requests",
                metadata: ["differences": .string(repairedInAWS.joined(separator: "; "))]
            )
        }
        let digests = DigestService(
            store: stores.audit,
            signingKey: stores.auditSigningKey,
            anchor: stores.digestAnchor,
            interval: configuration.digestInterval,
            clock: ContinuousClock(),
            logger: logger,
            onTamper: { _ in observer?.auditTampered() }
        )
        var services: [any Service] = stores.closeAudit.map { [ClosingService(close: $0)] } ?? []
        let leadership = stores.replication?.leadership
        services += [
            exclusive(.auditDigests, digests, leadership: leadership, logger: logger),
            WebhookService(
                dispatcher: dispatcher,
                privateAddresses: configuration.webhookPrivateAddresses,
                logger: logger
            ),
        ]
        if let aws, let files = aws.cloudTrail, let access = configuration.aws {
            let ingest = CloudTrailIngest(
                files: files,
                prefix: CloudTrailService.prefix(access.cloudTrailPrefix, account: aws.account, region: aws.region),
                trail: stores.audit,
                state: CloudTrailService.state(in: stores.replication?.database, or: stores.dataDirectory?.url),
                keys: { Set(try await catalog.domainList(by: "").map { Record.keyIdentifier($0.keyARN) }) },
                region: aws.region,
                account: aws.account
            )
            let service = CloudTrailService(ingest: ingest, interval: access.cloudTrailInterval, logger: logger)
            services.append(exclusive(.cloudTrailIngest, service, leadership: leadership, logger: logger))
        }
        if let drift { services.append(exclusive(.awsDriftCheck, drift, leadership: leadership, logger: logger)) }
        let transport: any Transport
        switch configuration.bus {
        case .embedded:
            let bus = try stores.embeddedBus(resources)
            transport = bus.transport
            if let service = bus.service { services.append(service) }
            if let prune = bus.prune {
                let retention = BusRetentionService(
                    prune: prune,
                    interval: configuration.busRetentionInterval,
                    logger: logger
                )
                services.append(exclusive(.busRetention, retention, leadership: leadership, logger: logger))
            }
        case .nats(let servers, let replicas):
            var options = JetStreamTransport.Configuration()
            options.replicas = replicas
            let jetStream = try JetStreamTransport(servers: servers, configuration: options, logger: logger)
            services.append(jetStream)
            transport = jetStream
        }
        if let replication = stores.replication {
            // The in-memory identities, catalog and requests follow the other replicas' commits.
            services.append(
                ReplicaSync(
                    changes: replication.changes,
                    identities: identities,
                    catalog: catalog,
                    access: access,
                    logger: logger
                )
            )
        }
        return SealedPlatform(
            configuration: configuration,
            identities: identities,
            credentials: stores.credentials,
            keyService: keyService,
            catalog: catalog,
            access: access,
            webhooks: webhooks,
            subjects: subjects,
            audit: Audit(
                store: stores.audit,
                sink: auditSink,
                signingKey: stores.auditSigningKey,
                export: stores.exportAudit,
                firstSequence: stores.firstAuditSequence,
                verify: stores.verifyAudit
            ),
            bus: Bus(
                transport: transport,
                governor: PublishGovernor(
                    catalog: catalog,
                    unknownTypes: configuration.unknownEventTypes,
                    maximumEventBytes: configuration.maximumEventBytes
                ),
                groupOwners: stores.groupOwners
            ),
            tables: tables,
            administratorARN: stores.administratorARN,
            dataDirectory: stores.dataDirectory,
            database: stores.database,
            services: services,
            aws: aws,
            requestScope: stores.replication.map { CacheEpochScope(epoch: $0.cacheEpoch) },
            resources: resources,
            leadership: leadership,
            logger: logger
        )
    }

    /// Where requests' records go in an audit mode; the benchmark modes are announced loudly.
    static func auditSink(of store: any AuditStore, mode: PlatformConfiguration.AuditMode, logger: Logger)
        -> (any AuditSink)?
    {
        switch mode {
        case .full:
            return store
        case .buildOnly:
            logger.critical("audit mode build-only: audit records are built and DROPPED (benchmarks only)")
            return UnwrittenAuditSink()
        case .off:
            logger.critical("audit mode off: requests are NOT audited (benchmarks only)")
            return nil
        }
    }
}

/// Drops every record: the benchmark mode in which requests build their audit records but nothing writes them
/// (``PlatformConfiguration/AuditMode/buildOnly``), to tell what building a record costs from what writing it does.
struct UnwrittenAuditSink: AuditSink {
    func record(_ record: Record) async throws {}
}
