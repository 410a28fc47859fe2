import AccessControl
public import AuditTrail
public import Composition
public import Foundation
public import Hummingbird
import HummingbirdCore
import WireShapes
public import KeyService
public import Logging
import NIOCore
public import ServiceLifecycle
public import Tables

/// The HTTP edge of the platform, on Hummingbird: AWS KMS (JSON 1.1) and STS (query protocol) on `POST /`, the `/v1`
/// API (IAM, catalog, access requests, audit trail, event bus), `GET /health` and `GET /metrics`.
///
/// Build it from a ``Configuration``, a ``KeyService/KeyService`` and an ``Authentication`` (and, for more than the
/// key service, a ``Platform``, an audit sink and the audit and bus routes), then run ``services(onServerRunning:)``
/// in a `ServiceGroup`; Hummingbird's `Application` is a `Service` and shuts down gracefully (in-flight requests
/// finish):
///
/// ```swift
/// let server = SealedServer(configuration: configuration, keyService: keyService, authentication: authentication)
/// let group = ServiceGroup(
///     services: server.services(),
///     gracefulShutdownSignals: [.sigterm, .sigint],
///     logger: logger
/// )
/// try await group.run()
/// ```
public struct SealedServer: Sendable {
    /// Where the server listens and how it checks requests.
    public struct Configuration: Sendable {
        /// 1 MiB.
        public static let defaultMaximumBodySize = 1_048_576

        public var host: String
        /// The port; 0 picks a free one (`onServerRunning` tells which).
        public var port: Int
        /// The region every SigV4 credential scope must name; match the key service's.
        public var region: String
        /// The account of the service; match the key service's.
        public var accountID: String
        /// The largest request body accepted (`RequestEntityTooLargeException`, 413, beyond it).
        public var maximumBodySize: Int
        /// How far a signing time may be from the server's clock (AWS: 15 minutes).
        public var allowedClockSkew: Duration
        /// How often key maintenance (deletions, automatic rotation) runs.
        public var maintenanceInterval: Duration
        /// How many failed authentications one source address may have, and how fast they are forgiven (see
        /// ``SignatureFailureLimiter``).
        public var signatureFailures: SignatureFailureLimiter.Policy
        /// How long a connection may send nothing while the server waits for it — between requests, or in the middle of
        /// one (its headers or body) — before the server closes it. A request the server is answering (a long poll)
        /// is not cut. Longer than a publish stream's own idle timeout (60 s), which ends its stream with a last line
        /// first. Default 90 s.
        public var idleTimeout: Duration
        /// How long a request head (request line and headers) may take from its first byte: a client sending it a
        /// byte at a time (slow-loris) resets the idle timeout with every byte, and is closed at this limit instead.
        /// Default 30 s.
        public var headerTimeout: Duration

        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            region: String = "us-east-1",
            accountID: String = "000000000000",
            maximumBodySize: Int = Configuration.defaultMaximumBodySize,
            allowedClockSkew: Duration = .seconds(15 * 60),
            maintenanceInterval: Duration = .seconds(60),
            signatureFailures: SignatureFailureLimiter.Policy = SignatureFailureLimiter.Policy(),
            idleTimeout: Duration = .seconds(90),
            headerTimeout: Duration = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.region = region
            self.accountID = accountID
            self.maximumBodySize = maximumBodySize
            self.allowedClockSkew = allowedClockSkew
            self.maintenanceInterval = maintenanceInterval
            self.signatureFailures = signatureFailures
            self.idleTimeout = idleTimeout
            self.headerTimeout = headerTimeout
        }
    }

    public let configuration: Configuration
    public let keyService: KeyService
    public let authentication: Authentication
    /// Identities, STS, the catalog and access requests; without it the server is a key service only.
    public let platform: Platform?
    /// Where every signed request's audit record goes; `nil` runs without an audit trail (tests, benchmarks).
    public let auditSink: (any AuditSink)?
    /// `/v1/audit` and the usage report, when the trail can be read.
    public let auditRoutes: AuditRoutes?
    /// `/v1/topics`: the event bus, when the server carries one.
    public let busRoutes: BusRoutes?
    /// The DynamoDB subset on `POST /` (the branch keystore's tables), when the server carries it.
    public let tables: TableService?
    /// The request metrics `GET /metrics` prints.
    public let metrics: RequestMetrics
    public let logger: Logger
    /// Routes other modules serve beside the API (the web console), registered by ``router()``.
    public var mounts: [any RouteMount] = []
    /// How the background services (key maintenance, access expiry) run: as they are, or once across the replicas
    /// of a PostgreSQL database (``Composition/SealedPlatform/exclusive(_:_:)``, set by the platform's initializer).
    public var exclusive: @Sendable (BackgroundRole, any Service) -> any Service = { _, service in service }
    /// AWS mode: `/v1` callers prove who they are with a signed `GetCallerIdentity` this authenticator has STS
    /// confirm (``CallerIdentityMiddleware``), `GET /v1/server` tells clients so, and the embedded KMS, STS and
    /// DynamoDB endpoints (`POST /`) are not served.
    public var callerIdentity: CallerIdentityAuthenticator?
    /// What every request runs inside (with PostgreSQL, the one read of the cache epoch its lookups share).
    public var requestScope: (any RequestScope)?
    let now: @Sendable () -> Date

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - configuration: Address, region and limits.
    ///   - keyService: The key service the KMS endpoint calls.
    ///   - authentication: The callers' credentials and principals.
    ///   - platform: Identities, STS, the catalog and access requests (`/v1` and STS on `POST /`).
    ///   - auditSink: The audit trail every signed request is recorded in before it is answered.
    ///   - tables: The table service of the DynamoDB endpoint (`X-Amz-Target: DynamoDB_20120810.*`, signed for
    ///     `dynamodb`).
    ///   - metrics: Where request metrics are kept; a new registry by default.
    ///   - logger: The server's logger; requests log through it with their request id.
    ///   - now: The clock signatures are checked against.
    public init(
        configuration: Configuration = Configuration(),
        keyService: KeyService,
        authentication: Authentication,
        platform: Platform? = nil,
        auditSink: (any AuditSink)? = nil,
        auditRoutes: AuditRoutes? = nil,
        busRoutes: BusRoutes? = nil,
        tables: TableService? = nil,
        metrics: RequestMetrics = RequestMetrics(),
        logger: Logger = Logger(label: "sealed.server"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.keyService = keyService
        self.authentication = authentication
        self.platform = platform
        self.auditSink = auditSink
        self.auditRoutes = auditRoutes
        self.busRoutes = busRoutes
        self.tables = tables
        self.metrics = metrics
        self.logger = logger
        self.now = now
    }

    /// The routes: `GET /health`, `GET /metrics` and `GET /v1/openapi.json` unauthenticated; `POST /` (KMS, and STS
    /// with a platform) and `/v1` behind SigV4.
    public func router() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: RequestObserver(metrics: metrics))
        router.add(middleware: UnknownPlatformPath())
        if let requestScope { router.add(middleware: RequestScopeMiddleware(scope: requestScope)) }
        router.get("/health") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))
            )
        }
        // The contract of `/v1`, where the server has it.
        if platform != nil { OpenAPIDocument.register(in: router) }
        let metrics = self.metrics
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition()))
            )
        }
        var audited = router.group()
            .add(middleware: SignatureFailureLimit(limiter: SignatureFailureLimiter(policy: configuration.signatureFailures)))
        if let auditSink {
            audited = audited.add(
                middleware: AuditRecorder(
                    sink: auditSink,
                    region: configuration.region,
                    account: configuration.accountID,
                    maximumBodySize: configuration.maximumBodySize
                )
            )
        }
        var signed: RouterGroup<AuthenticatedContext>
        if let callerIdentity {
            let description = ServerDescription(
                mode: "aws",
                serverId: callerIdentity.audience,
                account: configuration.accountID,
                region: configuration.region
            )
            router.get("/v1/server") { _, _ in description.response }
            signed = audited.add(
                middleware: CallerIdentityMiddleware(
                    authenticator: callerIdentity,
                    maximumBodySize: configuration.maximumBodySize
                )
            )
            .group(context: AuthenticatedContext.self)
        } else {
            signed = audited.add(
                middleware: SigV4Authenticator(
                    region: configuration.region,
                    services: Self.signingServices(platform: platform != nil, tables: tables != nil),
                    authentication: authentication,
                    maximumBodySize: configuration.maximumBodySize,
                    allowedClockSkew: configuration.allowedClockSkew,
                    now: now
                )
            )
            .group(context: AuthenticatedContext.self)
        }
        // A change's intent record is durable before its handler runs.
        if auditSink != nil { signed = signed.add(middleware: AuditIntentRecorder()) }
        if callerIdentity == nil { registerAWSEndpoints(in: signed) }
        // `/v1` is signed for the service `sealed`.
        let platformRoutes = signed.group("v1").add(middleware: ServiceScope(service: "sealed"))
        if let platform { PlatformRoutes(platform: platform).register(in: platformRoutes) }
        auditRoutes?.register(in: platformRoutes)
        busRoutes?.register(in: platformRoutes)
        for mount in mounts { mount.register(in: router, v1: platformRoutes) }
        return router
    }

    /// The embedded KMS (JSON 1.1 with X-Amz-Target), DynamoDB (JSON 1.0 with X-Amz-Target) and STS (form-encoded
    /// query), which share `POST /`.
    private func registerAWSEndpoints(in signed: RouterGroup<AuthenticatedContext>) {
        let kms = KMSRoutes(keyService: keyService)
        let sts = platform.map { STSRoutes(identities: $0.identities) }
        let dynamoDB = tables.map { DynamoDBRoutes(tables: $0) }
        signed.post("/") { request, context in
            if let dynamoDB, DynamoDBRoutes.isDynamoDB(request) {
                try context.principal.requireService("dynamodb")
                return try await dynamoDB.handle(request, context: context)
            }
            if let sts, STSRoutes.isQuery(request) {
                do {
                    try context.principal.requireService("sts")
                } catch let error as KMSError {
                    throw STSErrorResponse(error)
                }
                return try await sts.handle(request, context: context)
            }
            try context.principal.requireService("kms")
            return try await kms.handle(request, context: context)
        }
    }

    /// The Hummingbird application serving ``router()`` on the configured address.
    ///
    /// - Parameter onServerRunning: Called with the listening channel once bound (its `localAddress` has the port).
    public func application(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<RouterResponder<ServerContext>> {
        let headerTimeout = configuration.headerTimeout
        return Application(
            router: router(),
            server: .http1(
                configuration: HTTP1Channel.Configuration(
                    additionalChannelHandlers: [HeaderTimeout(limit: Self.timeAmount(headerTimeout))],
                    idleTimeout: Self.timeAmount(configuration.idleTimeout)
                )
            ),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "sealed"
            ),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// The services a credential scope may name: `kms`, and with a platform `sts` and `sealed`, with tables `dynamodb`.
    static func signingServices(platform: Bool, tables: Bool) -> Set<String> {
        var services: Set<String> = ["kms"]
        if platform { services.formUnion(["sts", "sealed"]) }
        if tables { services.insert("dynamodb") }
        return services
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The key-maintenance service.
    public func maintenanceService() -> MaintenanceService {
        MaintenanceService(
            keyService: keyService,
            interval: configuration.maintenanceInterval,
            auditSink: auditSink,
            logger: logger
        )
    }

    /// Everything to run in one `ServiceGroup`: the HTTP application, key maintenance and, with a platform, the
    /// access-grant expiry (these two under the platform's leader election when it has one).
    ///
    /// - Parameter onServerRunning: Called with the listening channel once bound.
    public func services(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> [any Service] {
        var services: [any Service] = [
            application(onServerRunning: onServerRunning), exclusive(.keyMaintenance, maintenanceService()),
        ]
        if let platform { services.append(exclusive(.accessExpiry, ExpiryService(access: platform.access, logger: logger))) }
        return services
    }
}

/// Routes another module serves on the server's port (the web console): its own unsigned routes on `router`, and
/// signed `/v1` operations in `v1` (behind SigV4, the audit recorder and the `sealed` service scope).
public protocol RouteMount: Sendable {
    func register(in router: Router<ServerContext>, v1: RouterGroup<AuthenticatedContext>)
}

/// Refuses requests signed for another service than the routes' (`Credential should be scoped to correct
/// service`), as AWS endpoints do, and runs the others with the caller's address bound as ``CallerAddress`` (the
/// `aws:SourceIp` of the platform's own authorization checks).
struct ServiceScope: RouterMiddleware {
    typealias Context = AuthenticatedContext
    let service: String

    func handle(
        _ request: Request,
        context: AuthenticatedContext,
        next: @concurrent (Request, AuthenticatedContext) async throws -> Response
    ) async throws -> Response {
        try context.principal.requireService(service)
        return try await CallerAddress.$current.withValue(context.sourceIP) { try await next(request, context) }
    }
}
