// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sealed-events",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EncryptionSDK", targets: ["EncryptionSDK"]),
        .library(name: "SigV4", targets: ["SigV4"]),
        .library(name: "WireShapes", targets: ["WireShapes"]),
        .library(name: "KMS", targets: ["KMS"]),
        .library(name: "PlatformClient", targets: ["PlatformClient"]),
        .library(name: "KeyService", targets: ["KeyService"]),
        .library(name: "AccessControl", targets: ["AccessControl"]),
        .library(name: "Catalog", targets: ["Catalog"]),
        .library(name: "Subjects", targets: ["Subjects"]),
        .library(name: "AuditTrail", targets: ["AuditTrail"]),
        .library(name: "SealedEvents", targets: ["SealedEvents"]),
        .library(name: "NATS", targets: ["NATS"]),
        .library(name: "EventBus", targets: ["EventBus"]),
        .library(name: "JetStreamBus", targets: ["JetStreamBus"]),
        .library(name: "Tables", targets: ["Tables"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "PostgresStorage", targets: ["PostgresStorage"]),
        .library(name: "AWSGovernance", targets: ["AWSGovernance"]),
        .library(name: "Composition", targets: ["Composition"]),
        .library(name: "Server", targets: ["Server"]),
        .library(name: "Console", targets: ["Console"]),
        .library(name: "SealedTesting", targets: ["SealedTesting"]),
        .library(name: "SealedServerTesting", targets: ["SealedServerTesting"]),
        .library(name: "SealedCLI", targets: ["SealedCLI"]),
        .executable(name: "sealed", targets: ["sealed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Package-only helpers shared by every module: JSON core, base64, hex, percent-encoding, UTC time,
        // Duration conversions, random ids, durable atomic writes, CodedError. Foundation and Synchronization only.
        .target(name: "SealedSupport"),
        // The AWS Encryption SDK message format, keyrings and materials managers; swift-crypto only.
        .target(
            name: "EncryptionSDK",
            dependencies: [
                "SealedSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // AWS Signature Version 4: signer (clients) and verifier (the server).
        .target(
            name: "SigV4",
            dependencies: ["SealedSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The wire shapes shared by servers, clients and the CLI: KMS and STS requests, responses and errors, and the
        // platform's `/v1` shapes. No HTTP client.
        .target(name: "WireShapes", dependencies: ["SealedSupport"]),
        // AWS KMS and STS clients (JSON 1.1 and query protocols), credentials, the KMS keyring; re-exports WireShapes.
        .target(
            name: "KMS",
            dependencies: [
                "EncryptionSDK",
                "SealedSupport",
                "SigV4",
                "WireShapes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client of the platform's `/v1` API, on the KMS client's signed transport.
        .target(
            name: "PlatformClient",
            dependencies: [
                "KMS", "SealedEvents", "WireShapes",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The producer/consumer SDK: envelopes, Sealer, Opener, CloudEvents mapping.
        .target(
            name: "SealedEvents",
            dependencies: ["EncryptionSDK", "KMS", "SealedSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // NATS client protocol and JetStream API on SwiftNIO: the event bus's JetStream transport.
        .target(
            name: "NATS",
            dependencies: [
                "SealedSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The event bus's domain: topics, events, the Transport protocol, BusError, InMemoryTransport; Foundation only.
        .target(name: "EventBus", dependencies: ["SealedSupport"]),
        // The event bus on NATS JetStream: topics as streams, consumer groups as durable pull consumers.
        .target(
            name: "JetStreamBus",
            dependencies: [
                "EventBus", "NATS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The key service's domain: keys, material versions, rotation, aliases, states, ciphertext blobs.
        .target(
            name: "KeyService",
            dependencies: ["SealedSupport", "WireShapes", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Users, teams, roles, policies and their evaluation, role sessions, access requests; no HTTP, no SQLite.
        .target(
            name: "AccessControl",
            dependencies: ["SealedSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The audit trail: CloudTrail-shaped records, hash chain, signed digests, verifier, export; no SQLite, no HTTP.
        .target(
            name: "AuditTrail",
            dependencies: [
                "SealedSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Domains, event types, classification, sensitive fields, reader roles; no HTTP, no SQLite.
        .target(name: "Catalog", dependencies: ["AccessControl"]),
        // Data subjects: per-domain pseudonyms, their branch keys created on first use, erasure and its fence; no HTTP,
        // no SQLite, no keystore client (a `BranchKeyCustodian` creates and destroys the keys).
        .target(
            name: "Subjects",
            dependencies: [
                "AccessControl", "Catalog", "SealedSupport", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The DynamoDB subset of branch keystore tables: tables, items, condition and key expressions, transactions,
        // the TableStore protocol; no HTTP, no SQLite.
        .target(name: "Tables", dependencies: ["SealedSupport", "WireShapes"]),
        // SQLite (GRDB) implementations of the domain stores, and the server's data directory.
        .target(
            name: "Storage",
            dependencies: [
                "AccessControl",
                "AuditTrail",
                "EventBus",
                "Catalog",
                "KeyService",
                "SealedSupport",
                "Subjects", "Tables",
                "WireShapes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the audit writer's per-record inserts (`AuditRecordInsert`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // The audit log's warning when it quarantines a torn write at start.
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // PostgreSQL (postgres-nio) implementations of the domain stores, for several replicas on one database: the
        // pool, transactions, versioned migrations under an advisory lock. Secrets sealed with `Storage`'s sealer.
        .target(
            name: "PostgresStorage",
            dependencies: [
                "AccessControl",
                "AuditTrail",
                "Catalog",
                "EventBus",
                "KeyService",
                "SealedSupport",
                "Storage",
                "Subjects", "Tables",
                "WireShapes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The platform put together: PlatformConfiguration, the one builder that chooses the back ends (storage, keys,
        // bus) and wires the services, publish governance, the HTTP-free adapters and background services.
        .target(
            name: "Composition",
            dependencies: [
                "AccessControl", "AuditTrail", "AWSGovernance", "Catalog", "EncryptionSDK", "EventBus", "JetStreamBus",
                "KeyService", "KMS", "PostgresStorage", "SealedEvents", "SealedSupport", "Storage", "Subjects", "Tables",
                "WireShapes",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP edge: Hummingbird routes, RequestContext, SigV4 middleware, KMS endpoint, health, metrics.
        .target(
            name: "Server",
            dependencies: [
                "AccessControl", "AuditTrail", "Catalog", "Composition", "EncryptionSDK", "EventBus", "SealedEvents", "KeyService",
                "SealedSupport", "SigV4", "Subjects", "Tables", "WireShapes",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // The `/v1` API's OpenAPI document, compiled into the binary (`PackageResources.openapi_json`): served at
            // `GET /v1/openapi.json` with no bundle to find at run time.
            resources: [.embedInCode("OpenAPI/openapi.json")]
        ),
        // What the platform writes in an AWS account: resource names, reader roles' trust policies (its grants beside
        // foreign statements), key, reader and producer policies.
        .target(
            name: "AWSGovernance",
            dependencies: ["AccessControl", "SealedSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The web console at `/console`: sessions, sign-in (access key or one-time link), server-rendered pages over the
        // platform's services; templates and its stylesheet compiled into the binary.
        .target(
            name: "Console",
            dependencies: [
                "AccessControl", "AuditTrail", "Catalog", "Composition", "EventBus", "KMS", "KeyService", "SealedEvents",
                "SealedSupport", "Server", "SigV4", "Tables", "WireShapes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [
                .embedInCode("Resources/console.css"),
                .embedInCode("Resources/layout-top.mustache"),
                .embedInCode("Resources/layout-bottom.mustache"),
                .embedInCode("Resources/sign-in.mustache"),
                .embedInCode("Resources/link.mustache"),
                .embedInCode("Resources/home.mustache"),
                .embedInCode("Resources/catalog.mustache"),
                .embedInCode("Resources/event-type.mustache"),
                .embedInCode("Resources/reviews.mustache"),
                .embedInCode("Resources/message.mustache"),
                .embedInCode("Resources/access.mustache"),
                .embedInCode("Resources/topics.mustache"),
                .embedInCode("Resources/topic.mustache"),
                .embedInCode("Resources/opened.mustache"),
                .embedInCode("Resources/audit.mustache"),
                .embedInCode("Resources/audit-state.mustache"),
                .embedInCode("Resources/audit-record.mustache"),
                .embedInCode("Resources/audit-verify.mustache"),
                .embedInCode("Resources/audit-usage.mustache"),
            ]
        ),
        .target(
            name: "SealedCLI",
            dependencies: [
                "Console",
                "AccessControl",
                "AuditTrail",
                "Composition",
                "EventBus",
                "JetStreamBus",
                "SealedEvents",
                "Catalog",
                "EncryptionSDK",
                "SigV4",
                "KMS",
                "KeyService",
                "PlatformClient",
                "PostgresStorage",
                "Storage",
                "Server",
                "SealedSupport",
                "WireShapes",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "sealed", dependencies: ["SealedCLI"]),
        // Fixtures, peers, vector loaders and contract tests shared by every test target.
        .target(
            name: "SealedTesting",
            dependencies: [
                "EncryptionSDK",
                .product(name: "Crypto", package: "swift-crypto"),
                // PostgresFixture creates and drops each test's database on the server scripts/test starts.
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The server kits: the platform in memory wired by the builder, its router in process, live servers.
        .target(
            name: "SealedServerTesting",
            dependencies: [
                "AccessControl", "AuditTrail", "Catalog", "Composition", "Server",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "EncryptionSDKTests",
            dependencies: [
                "EncryptionSDK",
                "SealedSupport",
                "SealedTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "SealedEventsTests",
            dependencies: [
                "SealedEvents", "EncryptionSDK", "KMS", "SigV4", "SealedSupport", "SealedTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "NATSTests",
            dependencies: [
                "NATS", "SealedTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AuditTrailTests",
            dependencies: [
                "AuditTrail",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "EventBusTests",
            dependencies: [
                "EventBus", "JetStreamBus", "Storage", "PostgresStorage", "NATS", "SealedTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4", "SealedTesting"]),
        .testTarget(name: "SealedSupportTests", dependencies: ["SealedSupport", "SealedTesting"]),
        // The repository's own contracts: the README's module graph is Package.swift's.
        .testTarget(name: "PackageTests"),
        .testTarget(
            name: "KeyServiceTests",
            dependencies: ["KeyService", "KMS", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "AccessControlTests", dependencies: ["AccessControl"]),
        .testTarget(name: "TablesTests", dependencies: ["Tables", "WireShapes"]),
        .testTarget(
            name: "SubjectsTests",
            dependencies: [
                "Subjects", "AccessControl", "Catalog", "SealedServerTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage", "AccessControl", "AuditTrail", "KeyService", "KMS", "SigV4", "SealedTesting", "Subjects", "Tables",
                "Catalog", "EventBus", "PostgresStorage", "WireShapes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CompositionTests",
            dependencies: [
                "Composition", "AccessControl", "AuditTrail", "AWSGovernance", "Catalog", "EventBus", "KeyService", "KMS",
                "Storage", "PostgresStorage", "SealedTesting", "SigV4", "WireShapes",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "AccessControl", "AuditTrail", "AWSGovernance", "Catalog", "Composition", "KeyService", "KMS", "SigV4",
                "SealedTesting",
                "SealedServerTesting", "EventBus", "PlatformClient", "SealedEvents", "Subjects", "Tables", "WireShapes",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "AWSGovernanceTests",
            dependencies: ["AWSGovernance", "AccessControl", "KMS", "SealedTesting", "SigV4"]
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "AccessControl", "AuditTrail", "Catalog", "Composition", "EventBus", "KMS", "KeyService",
                "SealedEvents", "Server", "SealedServerTesting", "Subjects", "WireShapes",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "WireShapesTests", dependencies: ["WireShapes", "SealedSupport", "SealedTesting"]),
        .testTarget(
            name: "KMSTests",
            dependencies: ["KMS", "EncryptionSDK", "SigV4", "SealedTesting", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "SealedCLITests",
            dependencies: [
                "SealedCLI", "SealedTesting", "Composition", "EncryptionSDK", "KMS", "PlatformClient", "SigV4", "WireShapes",
                "SealedServerTesting", "Server", "Subjects", "AccessControl", "AuditTrail", "Catalog", "SealedSupport",
                "PostgresStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// The libFuzzer harness (`scripts/fuzz`), declared only when SEALED_FUZZ is set so the normal build never sees it. It is
// one executable holding every target (the environment variable SEALED_FUZZ_TARGET picks one), built in release with
// `-sanitize=fuzzer,address` in its own scratch path; its `main` hands over to libFuzzer's driver.
if Context.environment["SEALED_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "sealed-fuzz",
            dependencies: [
                "AccessControl", "AuditTrail", "EncryptionSDK", "NATS", "SealedEvents", "SealedSupport", "SigV4",
                "WireShapes",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Fuzz/Sources",
            // gold fails on the sanitized objects (an internal error in its DWARF reader); lld links them.
            linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
        )
    )
    package.products.append(.executable(name: "sealed-fuzz", targets: ["sealed-fuzz"]))
}

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(contentsOf: [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        // Async functions run on their caller's executor unless marked `@concurrent`: no executor hop
        // per seal or open (SE-0461).
        .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    ])
    target.swiftSettings = settings
}
