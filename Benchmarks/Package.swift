// swift-tools-version: 6.1
import PackageDescription

/// Benchmarks of the Sealed Events package, kept apart so users never resolve the benchmark tool.
/// Run with `swift package benchmark` here, or `scripts/bench` from the root for the comparisons.
let package = Package(
    name: "sealed-events-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sealed-events", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "SigV4Benchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SigV4", package: "sealed-events"),
            ],
            path: "Benchmarks/SigV4Benchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PolicyBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AccessControl", package: "sealed-events"),
            ],
            path: "Benchmarks/PolicyBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not a benchmark: counts the KMS calls of 100,000 encryptions through the caching CMM.
        .executableTarget(
            name: "kms-call-count",
            dependencies: [
                .product(name: "EncryptionSDK", package: "sealed-events"),
                .product(name: "KMS", package: "sealed-events"),
                .product(name: "SealedTesting", package: "sealed-events"),
                .product(name: "SigV4", package: "sealed-events"),
            ]
        ),
        // Not a benchmark: the load generator of scripts/bench (sealed serve, moto, the HTTP floor).
        .executableTarget(
            name: "kms-load",
            dependencies: [
                .product(name: "KMS", package: "sealed-events"),
                .product(name: "SigV4", package: "sealed-events"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Not a benchmark: times verify of a million-record audit trail, live and exported (scripts/bench).
        .executableTarget(
            name: "audit-verify-bench",
            dependencies: [
                .product(name: "AuditTrail", package: "sealed-events"),
                .product(name: "Storage", package: "sealed-events"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Not a benchmark: the event platform's figures (seal+open through the SDK; the bus through sealed serve).
        .executableTarget(
            name: "event-bench",
            dependencies: [
                .product(name: "EncryptionSDK", package: "sealed-events"),
                .product(name: "SealedEvents", package: "sealed-events"),
                .product(name: "KMS", package: "sealed-events"),
                .product(name: "PlatformClient", package: "sealed-events"),
                .product(name: "SigV4", package: "sealed-events"),
                .product(name: "NATS", package: "sealed-events"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HTTP floor: a bare Hummingbird route that echoes its body.
        .executableTarget(name: "echo-server", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
        .executableTarget(
            name: "ESDKBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "EncryptionSDK", package: "sealed-events"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/ESDKBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
