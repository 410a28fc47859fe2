internal import ArgumentParser
internal import Composition
internal import Console
internal import Foundation
internal import Logging
internal import NIOCore
internal import PostgresStorage
internal import Server
internal import Storage
internal import ServiceLifecycle
internal import UnixSignals

/// `sealed serve`: the platform in one process — the KMS-compatible key service, IAM and STS, the catalog, access
/// requests, the audit trail and the event bus.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Run the Sealed Events platform: KMS, IAM and STS, DynamoDB tables, catalog, access requests, audit "
            + "trail, event bus.",
        discussion: """
            The first start creates the data directory (mode 0700), a 256-bit root key (root.key, mode \
            0600, unless SEALED_ROOT_KEY holds one in base64), the SQLite database, and an administrator \
            whose credentials go, mode 0600, to DATA_DIR/admin.credentials (AWS shared-credentials format, \
            profile sealed-admin). Later starts reuse them; a directory made by an incompatible version or \
            opened with another root key is refused, never reinitialised.

            Point the aws CLI or boto3 at it:
              AWS_SHARED_CREDENTIALS_FILE=DATA_DIR/admin.credentials AWS_PROFILE=sealed-admin \\
              aws kms create-key --endpoint-url http://127.0.0.1:8080 --region us-east-1

            The event bus is embedded (SQLite, DATA_DIR/bus.sqlite) unless --bus names NATS JetStream \
            servers (nats://HOST:PORT[,HOST:PORT…]): topics become streams, consumer groups durable consumers.

            The branch keystore's DynamoDB tables (aws dynamodb, boto3, the AWS MPL's KeyStore) are kept in             DATA_DIR/tables.sqlite.

            With --database postgres://… (or SEALED_DATABASE_URL) everything lives in that PostgreSQL \
            database instead, shared by any number of replicas behind a load balancer: every replica needs \
            the same root key (SEALED_ROOT_KEY or --root-key-file), and the first start on an empty database \
            writes the administrator's credentials to --admin-credentials-file.

            SIGINT or SIGTERM stops it gracefully: requests in flight finish, a last audit digest is signed, \
            the databases close.
            """
    )

    @Option(name: .customLong("data-dir"), help: "The data directory.", completion: .directory)
    var dataDirectory: String = "sealed-data"

    @Option(
        name: .customLong("database"),
        help: ArgumentHelp(
            "A PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…]) for the platform's state, "
                + "instead of the data directory, shared by any number of replicas; SEALED_DATABASE_URL keeps the "
                + "password off the command line. Needs the root key (SEALED_ROOT_KEY or --root-key-file)."
        )
    )
    var database: String?

    @Option(
        name: .customLong("root-key-file"),
        help: ArgumentHelp(
            "With --database: the root key's file (32 bytes in base64, mode 0600), unless SEALED_ROOT_KEY holds it; "
                + "every replica needs the same key.",
            valueName: "path"
        ),
        completion: .file()
    )
    var rootKeyFile: String?

    @Option(
        name: .customLong("admin-credentials-file"),
        help: ArgumentHelp(
            "With --database: where the replica that installs an empty database writes the administrator's access "
                + "key (mode 0600, profile sealed-admin); required for that first start, unused afterwards.",
            valueName: "path"
        ),
        completion: .file()
    )
    var adminCredentialsFile: String?

    @Option(name: .customLong("host"), help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("port"), help: "The port to listen on (0: any free port).")
    var port: Int = 8080

    @Option(name: .customLong("region"), help: "The region the service signs for and names in ARNs.")
    var region: String = "us-east-1"

    @Option(name: .customLong("account-id"), help: "The 12-digit account in ARNs.")
    var accountID: String = "000000000000"

    @Option(
        name: .customLong("bus"),
        help: "embedded (SQLite in the data directory, the default) or nats://HOST:PORT[,HOST:PORT…] (JetStream)."
    )
    var bus: String = "embedded"

    @Option(name: .customLong("bus-replicas"), help: "JetStream replicas per topic (1, 3 or 5; more need a cluster).")
    var busReplicas: Int = 1

    @Option(
        name: .customLong("unknown-event-types"),
        help: "Publishing an event type the catalog does not know: refuse (the default) or allow."
    )
    var unknownEventTypes: String = "refuse"

    @Option(
        name: .customLong("max-event-bytes"),
        help: "The largest event the bus takes, 1024 to 1000000 (default 262144); a request is at most 1 MiB."
    )
    var maxEventBytes: Int = 262_144

    @Option(
        name: .customLong("audit-commit-interval"),
        help: """
            While audit records queue up behind a commit, the next commit starts this many milliseconds after the \
            last one began, at the earliest (0 to 100; default 0.2 for the audit log in the data directory, 1 with \
            --database, where it applies after a commit of at least 32 records): fuller commits, less CPU per \
            request, at most that much more latency under load. With 0 the next commit starts as soon as the writer \
            is free.
            """
    )
    var auditCommitInterval: Double?

    @Option(
        name: .customLong("digest-interval"),
        help: "Seconds between the audit trail's signed digests while records are added (1 to 3600, default 60)."
    )
    var digestInterval: Int = 60

    @Option(
        name: .customLong("bus-retention-interval"),
        help: """
            Seconds between deletions of the embedded bus's events that their topic's retention no longer keeps \
            (1 to 86400, default 60; with --database, on one replica at a time).
            """
    )
    var busRetentionInterval: Int = 60

    @Option(
        name: .customLong("audit-mode"),
        help: """
            full (the default): every signed request is audited. FOR BENCHMARKS ONLY, logged as critical at start: \
            build-only (records are built and dropped) or off (requests are NOT audited).
            """
    )
    var auditMode: String = PlatformConfiguration.AuditMode.full.rawValue

    @Option(
        name: .customLong("idle-timeout"),
        help: """
            Seconds a connection may send nothing while the server waits for it (between requests, or in the middle \
            of a request's headers or body) before it is closed (5 to 3600, default 90). A request being answered, \
            such as a long poll, is not cut.
            """
    )
    var idleTimeout: Int = 90

    @Option(
        name: .customLong("header-timeout"),
        help: """
            Seconds a request's head (request line and headers) may take from its first byte before the connection \
            is closed (1 to 600, default 30): a client trickling its headers cannot hold a connection.
            """
    )
    var headerTimeout: Int = 30

    @Option(
        name: .customLong("console"),
        help: """
            on (the default): the web console at /console on the same port (sign-in with an access key or a link from \
            `sealed console login`); off: no console (its routes and the link route answer 404).
            """
    )
    var console: String = "on"

    @Flag(
        name: .customLong("console-secure-cookies"),
        help: "Mark the console's session cookie Secure: for browsers that reach the server over TLS (a proxy)."
    )
    var consoleSecureCookies: Bool = false

    @Option(
        name: .customLong("pending-request-lifetime"),
        help: """
            How long an access request may wait for its reviewers before it expires undecided (audited as \
            ExpirePendingAccessRequest, notified to the teams' webhooks): 90m, 12h, 7d, 2w … (1 hour to 366 days, \
            default 7d).
            """
    )
    var pendingRequestLifetime: String = "7d"

    @Flag(
        name: .customLong("webhook-private-addresses"),
        help: """
            Allow team webhooks to deliver to non-public addresses (loopback, private networks, link-local such as \
            169.254.169.254, reserved). Off by default: whoever sets a team's webhook could otherwise make the server \
            reach internal services.
            """
    )
    var webhookPrivateAddresses: Bool = false

    @OptionGroup(title: "AWS mode") var aws: AWSServeOptions

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if try databaseURL() != nil, aws.enabled, aws.serverID == nil {
            // A replica would make up an id of its own, and a caller's signature for one replica be refused by the
            // others behind the same load balancer.
            throw ValidationError(
                "--aws with --database needs --server-id ID, the same on every replica: callers sign it into their "
                    + "GetCallerIdentity, and any replica may answer them"
            )
        }
        guard accountID.count == 12, accountID.allSatisfy(\.isNumber) else {
            throw ValidationError("--account-id must be 12 digits")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard PublishGovernor.UnknownTypes(rawValue: unknownEventTypes) != nil else {
            throw ValidationError("--unknown-event-types must be refuse or allow")
        }
        guard bus == "embedded" || bus.hasPrefix("nats://") else {
            throw ValidationError("--bus must be embedded or nats://HOST:PORT[,HOST:PORT…]")
        }
        if let auditCommitInterval, !(0...100).contains(auditCommitInterval) {
            throw ValidationError("--audit-commit-interval must be between 0 and 100 (milliseconds)")
        }
        guard (1...3600).contains(digestInterval) else {
            throw ValidationError("--digest-interval must be between 1 and 3600 (seconds)")
        }
        guard (1...86_400).contains(busRetentionInterval) else {
            throw ValidationError("--bus-retention-interval must be between 1 and 86400 (seconds)")
        }
        guard PlatformConfiguration.AuditMode(rawValue: auditMode) != nil else {
            throw ValidationError("--audit-mode must be full, build-only or off")
        }
        guard (5...3600).contains(idleTimeout) else {
            throw ValidationError("--idle-timeout must be between 5 and 3600 (seconds)")
        }
        guard (1...600).contains(headerTimeout) else {
            throw ValidationError("--header-timeout must be between 1 and 600 (seconds)")
        }
        guard console == "on" || console == "off" else { throw ValidationError("--console must be on or off") }
        let lifetime = try parseDuration(pendingRequestLifetime, option: "--pending-request-lifetime")
        guard (3600...(366 * 86_400)).contains(lifetime) else {
            throw ValidationError("--pending-request-lifetime must be between 1 hour and 366 days")
        }
        guard [1, 3, 5].contains(busReplicas) else { throw ValidationError("--bus-replicas must be 1, 3 or 5") }
        // A publish request body is at most 1 MiB (the server's limit for every request), batches included.
        guard (1024...1_000_000).contains(maxEventBytes) else {
            throw ValidationError("--max-event-bytes must be between 1024 and 1000000 (requests are at most 1 MiB)")
        }
    }

    /// `--database` or `SEALED_DATABASE_URL`, checked (a malformed URL is refused with the reason, never the
    /// password); `nil` for the data directory.
    private func databaseURL() throws -> PostgresURL? {
        let environment = ProcessInfo.processInfo.environment["SEALED_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = database ?? environment else {
            guard rootKeyFile == nil, adminCredentialsFile == nil else {
                throw ValidationError("--root-key-file and --admin-credentials-file go with --database")
            }
            return nil
        }
        do {
            return try PostgresURL(text)
        } catch let error as StorageError {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        try await CLIError.reporting {
            var logger = Logger(label: "sealed")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            guard let url = try databaseURL() else {
                return try await serve(platformConfiguration, logger: logger)
            }
            // The pool lives as long as the platform: opened (and the schema migrated) first, closed after the
            // services stopped.
            try await PostgresStorage.PostgresDatabase.withDatabase(url, logger: logger) { database in
                var configuration = platformConfiguration
                configuration.storage = .postgres(
                    .init(
                        database: database,
                        rootKeyFile: rootKeyFile.map { URL(fileURLWithPath: $0) },
                        administratorCredentials: adminCredentialsFile.map { URL(fileURLWithPath: $0) }
                    )
                )
                try await serve(configuration, logger: logger)
            }
        }
    }

    /// Builds the platform and serves it until SIGINT or SIGTERM.
    private func serve(_ configuration: PlatformConfiguration, logger: Logger) async throws {
        let metrics = RequestMetrics()
        let platform = try await SealedPlatform.build(configuration, observer: metrics, logger: logger)
        defer { platform.close() }
        var server = SealedServer(
            platform,
            configuration: .init(
                host: host,
                port: port,
                idleTimeout: .seconds(idleTimeout),
                headerTimeout: .seconds(headerTimeout)
            ),
            metrics: metrics,
            logger: logger
        )
        // The console signs in with the platform's access keys, which AWS mode does not use.
        if console == "on", platform.aws == nil,
            let console = Console(server: server, configuration: .init(secureCookies: consoleSecureCookies))
        {
            server.mounts.append(console)
        }
        let services = server.services { channel in
            FileHandle.standardOutput.write(Data(banner(port: channel.localAddress?.port ?? 0, platform).utf8))
        }
        // The platform's services (the digest signer first) come first: services stop in reverse order, so its
        // final digest, signed at shutdown, covers every request the server answered.
        let group = ServiceGroup(
            services: platform.services + services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }

    /// The platform the options describe.
    var platformConfiguration: PlatformConfiguration {
        PlatformConfiguration(
            storage: .sqlite(dataDirectory: URL(fileURLWithPath: dataDirectory, isDirectory: true)),
            bus: bus == "embedded" ? .embedded : .nats(servers: bus, replicas: busReplicas),
            region: region,
            accountID: accountID,
            unknownEventTypes: PublishGovernor.UnknownTypes(rawValue: unknownEventTypes) ?? .refuse,
            maximumEventBytes: maxEventBytes,
            auditCommitInterval: auditCommitInterval.map { .microseconds(Int(($0 * 1000).rounded())) },
            auditMode: PlatformConfiguration.AuditMode(rawValue: auditMode) ?? .full,
            digestInterval: .seconds(digestInterval),
            pendingRequestLifetime: .seconds(
                (try? parseDuration(pendingRequestLifetime, option: "--pending-request-lifetime")) ?? 7 * 86_400
            ),
            busRetentionInterval: .seconds(busRetentionInterval),
            webhookPrivateAddresses: webhookPrivateAddresses,
            aws: aws.access
        )
    }

    /// The lines printed once the server listens; the first names the address (test kits read the port from it).
    func banner(port: Int, _ platform: SealedPlatform) -> String {
        if let database = platform.database {
            let credentials = database.administratorCredentials.map {
                "administrator credentials written to \($0.path) (profile sealed-admin)"
            }
            return """
                sealed serve: listening on http://\(host):\(port) (region \(region), account \(accountID), bus \(bus))
                sealed serve: \(database.wasCreated ? "installed" : "using") \(database.description)\
                \(credentials.map { "; \($0)" } ?? "")

                """
        }
        let directory = platform.dataDirectory
        if let aws = platform.aws {
            return """
                sealed serve: listening on http://\(host):\(port) (AWS account \(aws.account), region \(aws.region), \
                bus \(bus))
                sealed serve: governing AWS as \(aws.platformARN); server id \(aws.serverID); administrators \
                \(aws.administrators.joined(separator: ", "))

                """
        }
        return """
            sealed serve: listening on http://\(host):\(port) (region \(region), account \(accountID), bus \(bus))
            sealed serve: \(directory?.wasCreated == true ? "created" : "using") \(directory?.url.path ?? "memory"); \
            administrator credentials in \(directory?.administratorCredentials.path ?? "memory") (profile sealed-admin)

            """
    }
}
