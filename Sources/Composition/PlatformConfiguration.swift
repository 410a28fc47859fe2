public import AccessControl
public import Foundation
public import PostgresStorage

/// Everything that decides how the platform is put together: where its state lives, which back ends serve keys and
/// events, the publish rules and the audit trail's pace. ``SealedPlatform/build(_:environment:observer:logger:)``
/// turns it into a wired platform; `sealed serve`'s options fill it.
///
/// The listening address is not here: it belongs to the edge that serves the platform.
public struct PlatformConfiguration: Sendable, Hashable {
    /// Where the platform's state and audit trail live.
    public enum Storage: Sendable, Hashable {
        /// SQLite files in a data directory, created on first start (mode 0700) and locked for one process
        /// (`serve.lock`); see `Storage.DataDirectory`.
        case sqlite(dataDirectory: URL)
        /// Everything in memory, gone with the process, under a fresh root key: tests and throwaway runs.
        case memory
        /// A PostgreSQL database that any number of replicas share (`sealed serve --database`); see
        /// ``PostgresOptions``.
        case postgres(PostgresOptions)
    }

    /// The PostgreSQL back end: the database (its pool opened and owned by the caller, inside
    /// `PostgresDatabase.withDatabase`), and where the root key and the first administrator's credentials are.
    public struct PostgresOptions: Sendable, Hashable {
        public var database: PostgresDatabase
        /// The root key's file (base64, mode 0600 or stricter), read unless `SEALED_ROOT_KEY` is set; one of the two
        /// is required, and every replica must be given the same key.
        public var rootKeyFile: URL?
        /// Where the replica that installs an empty database writes the administrator's access key (mode 0600).
        public var administratorCredentials: URL?

        public init(database: PostgresDatabase, rootKeyFile: URL? = nil, administratorCredentials: URL? = nil) {
            self.database = database
            self.rootKeyFile = rootKeyFile
            self.administratorCredentials = administratorCredentials
        }
    }

    /// Who holds the keys.
    public enum Keys: Sendable, Hashable {
        /// The embedded key service, its material sealed under the storage's root key.
        case embedded
    }

    /// The event bus.
    public enum Bus: Sendable, Hashable {
        /// Beside the platform's state: `bus.sqlite` in the data directory, or in memory with ``Storage/memory``.
        case embedded
        /// NATS JetStream servers (`nats://HOST:PORT[,HOST:PORT…]`): topics become streams with `replicas` copies.
        case nats(servers: String, replicas: Int)
    }

    /// Whether requests are audited. Anything but ``full`` is for measuring what auditing costs (`scripts/bench`),
    /// never for production: the platform logs it as critical when it starts.
    public enum AuditMode: String, Sendable, Hashable, CaseIterable {
        /// Every signed request has its record, durable before the request is answered.
        case full
        /// Requests build their records and nothing writes them: what building a record costs.
        case buildOnly = "build-only"
        /// No audit middleware at all.
        case off
    }

    /// AWS mode (`sealed serve --aws`): keys, reader roles and grants live in the AWS account the credential chain
    /// reaches; callers prove who they are with a signed `GetCallerIdentity`.
    public struct AWSAccess: Sendable, Hashable {
        /// The region; else the credential chain's (`AWS_REGION`, the profile's).
        public var region: String?
        /// One endpoint for KMS, IAM, STS and S3 (an AWS-compatible service such as moto); else AWS's.
        public var endpoint: URL?
        /// The profile of `~/.aws/config`; else `AWS_PROFILE` or the environment's credentials.
        public var profile: String?
        /// The principals (users or roles of the account, by ARN) allowed everything on the platform.
        public var administrators: [String]
        /// The audience callers sign; else the one kept in the data directory (`aws-server-id`).
        public var serverID: String?
        /// How often the account is compared with the catalog and the grants (drift recorded in the audit trail).
        public var driftCheckInterval: Duration
        /// The S3 bucket CloudTrail delivers the account's log files to: their KMS events on the domains' keys are
        /// appended to the audit trail (``CloudTrailIngest``); `nil` for none.
        public var cloudTrailBucket: String?
        /// The trail's S3 key prefix (before `AWSLogs/`), if it has one.
        public var cloudTrailPrefix: String?
        /// How often new log files are looked for.
        public var cloudTrailInterval: Duration

        public init(
            region: String? = nil,
            endpoint: URL? = nil,
            profile: String? = nil,
            administrators: [String],
            serverID: String? = nil,
            driftCheckInterval: Duration = .seconds(3600),
            cloudTrailBucket: String? = nil,
            cloudTrailPrefix: String? = nil,
            cloudTrailInterval: Duration = .seconds(300)
        ) {
            self.region = region
            self.endpoint = endpoint
            self.profile = profile
            self.administrators = administrators
            self.serverID = serverID
            self.driftCheckInterval = driftCheckInterval
            self.cloudTrailBucket = cloudTrailBucket
            self.cloudTrailPrefix = cloudTrailPrefix
            self.cloudTrailInterval = cloudTrailInterval
        }
    }

    public var storage: Storage
    /// AWS mode, or `nil` for the embedded key service and IAM.
    public var aws: AWSAccess?
    public var keys: Keys
    public var bus: Bus
    /// The region the platform signs for and names in ARNs.
    public var region: String
    /// The 12-digit account in ARNs.
    public var accountID: String
    /// Publishing an event type the catalog does not know.
    public var unknownEventTypes: PublishGovernor.UnknownTypes
    /// The largest event the bus takes.
    public var maximumEventBytes: Int
    /// While audit records queue up behind a commit, the next commit starts this long after the last one began, at the
    /// earliest (`LogAuditStore.commitInterval`; `PostgresAuditStore.commitInterval`, there only after a commit of at
    /// least 32 records); `nil`: the store's default, 200 µs for the audit log and 1 ms on PostgreSQL.
    public var auditCommitInterval: Duration?
    public var auditMode: AuditMode
    /// How often the audit trail's head is signed (and checked against its anchor).
    public var digestInterval: Duration
    /// How long an access request may stay pending before it expires undecided (default 7 days).
    public var pendingRequestLifetime: Duration
    /// How often the embedded bus deletes the events its topics' retention no longer keeps (`BusRetentionService`).
    public var busRetentionInterval: Duration
    /// When the webhook deliveries retry.
    public var webhookRetry: RetryPolicy
    /// Whether webhooks may be delivered to non-public addresses (loopback, private, link-local, reserved). Off by
    /// default: a team member who sets a webhook must not make the server reach internal services.
    public var webhookPrivateAddresses: Bool

    public init(
        storage: Storage = .sqlite(dataDirectory: URL(fileURLWithPath: "sealed-data", isDirectory: true)),
        keys: Keys = .embedded,
        bus: Bus = .embedded,
        region: String = "us-east-1",
        accountID: String = "000000000000",
        unknownEventTypes: PublishGovernor.UnknownTypes = .refuse,
        maximumEventBytes: Int = 262_144,
        auditCommitInterval: Duration? = nil,
        auditMode: AuditMode = .full,
        digestInterval: Duration = .seconds(60),
        pendingRequestLifetime: Duration = .seconds(7 * 86_400),
        busRetentionInterval: Duration = .seconds(60),
        webhookRetry: RetryPolicy = RetryPolicy(),
        webhookPrivateAddresses: Bool = false,
        aws: AWSAccess? = nil
    ) {
        self.storage = storage
        self.aws = aws
        self.keys = keys
        self.bus = bus
        self.region = region
        self.accountID = accountID
        self.unknownEventTypes = unknownEventTypes
        self.maximumEventBytes = maximumEventBytes
        self.auditCommitInterval = auditCommitInterval
        self.auditMode = auditMode
        self.digestInterval = digestInterval
        self.pendingRequestLifetime = pendingRequestLifetime
        self.busRetentionInterval = busRetentionInterval
        self.webhookRetry = webhookRetry
        self.webhookPrivateAddresses = webhookPrivateAddresses
    }
}
