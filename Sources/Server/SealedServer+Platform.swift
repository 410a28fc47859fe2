import AuditTrail
public import Composition
public import Logging

extension SealedServer {
    /// The server of a wired platform: the KMS, STS and DynamoDB endpoints, `/v1` (identities, the catalog, access
    /// requests, the audit trail, the bus), audited as the platform's audit mode says.
    ///
    /// - Parameters:
    ///   - platform: The platform, from ``Composition/SealedPlatform/build(_:environment:observer:logger:)``.
    ///   - configuration: Address and limits; its region and account are the platform's.
    ///   - metrics: Where request metrics are kept (pass the same registry as the platform's observer).
    ///   - logger: The server's logger.
    public init(
        _ platform: SealedPlatform,
        configuration: Configuration = Configuration(),
        metrics: RequestMetrics = RequestMetrics(),
        logger: Logger = Logger(label: "sealed.server")
    ) {
        var configuration = configuration
        configuration.region = platform.configuration.region
        configuration.accountID = platform.configuration.accountID
        let audit = platform.audit
        self.init(
            configuration: configuration,
            keyService: platform.keyService,
            authentication: .store(platform.credentials),
            platform: Platform(
                identities: platform.identities,
                catalog: platform.catalog,
                access: platform.access,
                subjects: platform.subjects,
                webhooks: platform.webhooks
            ),
            auditSink: audit.sink,
            auditRoutes: AuditRoutes(
                store: audit.store,
                identities: platform.identities,
                export: audit.export,
                firstSequence: audit.firstSequence,
                publicKeyPEM: audit.signingKey.publicKeyPEM,
                verify: audit.verify
            ),
            busRoutes: BusRoutes(
                transport: platform.bus.transport,
                governor: platform.bus.governor,
                identities: platform.identities,
                groupOwners: platform.bus.groupOwners
            ),
            tables: platform.tables,
            metrics: metrics,
            logger: logger
        )
        exclusive = { role, service in platform.exclusive(role, service) }
        requestScope = platform.requestScope
        if let aws = platform.aws, let routes = self.platform {
            callerIdentity = CallerIdentityAuthenticator(audience: aws.serverID, resolver: aws.callerIdentityResolver)
            mounts.append(AWSRoutes(account: aws, platform: routes))
        }
    }
}
