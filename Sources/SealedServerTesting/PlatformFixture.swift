public import AccessControl
public import AuditTrail
public import Catalog
public import Composition
import Hummingbird
public import HummingbirdTesting
public import Logging
public import Server

/// The whole platform in memory, wired by ``Composition/SealedPlatform/build(_:environment:observer:logger:)`` as
/// `sealed serve` wires it, with its server's router driven in process and the administrator's access key ready.
///
/// ```swift
/// let fixture = try await PlatformFixture()
/// try await fixture.test { client in … }
/// ```
public final class PlatformFixture: Sendable {
    /// An access key of a caller (and the session token of a role session's).
    public struct Keys: Sendable, Hashable {
        public let id: String
        public let secret: String
        public var token: String?

        public init(id: String, secret: String, token: String? = nil) {
            self.id = id
            self.secret = secret
            self.token = token
        }
    }

    public let platform: SealedPlatform
    public let server: SealedServer
    /// The memory back end's audit trail, whose failures a test can switch on.
    public let audit: InMemoryAuditStore
    /// The memory back end's access keys.
    public let credentials: InMemoryCredentialStore
    /// The administrator `admin`'s access key.
    public let admin: Keys
    public let logger: Logger

    public var identities: IdentityService { platform.identities }
    public var catalog: EventCatalog { platform.catalog }
    public var access: AccessRequests { platform.access }

    /// Builds the platform with memory storage.
    ///
    /// - Parameters:
    ///   - configuration: The platform; its storage is replaced by ``Composition/PlatformConfiguration/Storage/memory``.
    ///   - logger: The platform's and the server's logger.
    public init(
        configuration: PlatformConfiguration = PlatformConfiguration(),
        logger: Logger = Logger(label: "platform-fixture")
    ) async throws {
        var configuration = configuration
        configuration.storage = .memory
        let platform = try await SealedPlatform.build(configuration, environment: [:], logger: logger)
        guard let audit = platform.audit.store as? InMemoryAuditStore,
            let credentials = platform.credentials as? InMemoryCredentialStore
        else { preconditionFailure("the memory back end keeps its trail and keys in memory stores") }
        let key = try await platform.identities.createAccessKey(
            for: platform.identities.userName(of: platform.administratorARN) ?? "admin",
            by: .platform
        )
        self.platform = platform
        self.audit = audit
        self.credentials = credentials
        self.admin = Keys(id: key.id, secret: key.secretAccessKey)
        self.logger = logger
        self.server = SealedServer(platform, logger: logger)
    }

    /// A new user, in `team` when one is given, and its access key.
    public func user(_ name: String, team: String? = nil) async throws -> Keys {
        let (_, key) = try await identities.createUser(name, team: team, by: .platform)
        return Keys(id: key.id, secret: key.secretAccessKey)
    }

    /// Runs `body` against the server's router in process.
    public func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: server.router(), logger: logger)
        try await app.test(.router) { client in try await body(client) }
    }

    /// The newest audit record.
    public func lastRecord() async throws -> Record? {
        let head = try await audit.chainHead().sequence
        return try await audit.tail(after: head - 1, limit: 1).last?.record
    }
}
