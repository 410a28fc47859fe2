import AsyncHTTPClient
import AuditTrail
import Crypto
import Foundation
import KMS
import KeyService
import NIOCore
import NIOHTTP1
import SealedServerTesting
import Server
import ServiceLifecycle
import SigV4
import Synchronization
import Testing

@testable import Server

/// #5: callers without valid credentials cannot flood the audit trail, over real HTTP to a live server.
@Suite struct AuditFloodTests {
    /// Runs an audited server on a loopback port with `policy` for failed signatures.
    func withAuditedServer<T: Sendable>(
        policy: SignatureFailureLimiter.Policy = SignatureFailureLimiter.Policy(burst: 1_000),
        _ body: @Sendable (Int, InMemoryAuditStore) async throws -> T
    ) async throws -> T {
        let audit = InMemoryAuditStore()
        let keyService = try KeyService(
            store: InMemoryKeyStore(),
            rootKey: SymmetricKey(size: .bits256),
            authorizer: AdministratorAuthorizer(administrators: [Fixture.admin.principalARN])
        )
        let server = SealedServer(
            configuration: SealedServer.Configuration(
                host: "127.0.0.1",
                port: 0,
                region: Fixture.region,
                signatureFailures: policy
            ),
            keyService: keyService,
            authentication: .fixed([Fixture.admin]),
            auditSink: audit,
            logger: Fixture.logger
        )
        return try await withLiveServer(server, logger: Fixture.logger) { port in try await body(port, audit) }
    }

    /// Sends a KMS request signed with `secret` for the admin's access key id.
    static func send(
        port: Int,
        target: String,
        body: [UInt8],
        secret: String = Fixture.admin.secretAccessKey,
        userAgent: String = "flood-tests"
    ) async throws -> (status: Int, code: String?, body: String) {
        let host = "127.0.0.1:\(port)"
        let headers: [(name: String, value: String)] = [
            (name: "host", value: host), (name: "content-type", value: AWSJSON.contentType),
            (name: "x-amz-target", value: target), (name: "user-agent", value: userAgent),
        ]
        let signature = Signer().sign(
            SigV4.Request(method: "POST", path: "/", headers: headers, payload: .body(body)),
            credentials: Credentials(accessKeyId: Fixture.admin.accessKeyId, secretAccessKey: secret),
            region: Fixture.region,
            service: "kms",
            date: Date()
        )
        var request = HTTPClientRequest(url: "http://\(host)/")
        request.method = .POST
        for (name, value) in headers.dropFirst() { request.headers.add(name: name, value: value) }
        for header in signature.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let shape = try? AWSJSON.decoder().decode(AWSErrorShape.self, from: Data(text.utf8))
        return (Int(response.status.code), shape?.code, text)
    }

    /// A body of about `size` bytes: a JSON object with a description made of `marker`.
    static func body(size: Int, marker: String) -> [UInt8] {
        let description = String(repeating: marker, count: size / marker.utf8.count)
        return Array(try! JSONSerialization.data(withJSONObject: ["Description": description]))
    }

    @Test func aRequestRefusedAtTheSignatureLeavesABoundedSummaryWithoutItsBody() async throws {
        try await withAuditedServer { port, audit in
            let marker = "SECRET-LOOKING-BODY-"
            let refused = try await Self.send(
                port: port,
                target: "TrentService.CreateKey" + String(repeating: "X", count: 2_000),
                body: Self.body(size: 900_000, marker: marker),
                secret: "not-the-secret",
                userAgent: String(repeating: "agent", count: 1_000)
            )
            #expect(refused.status == 400 && refused.code == "InvalidSignatureException")
            let stored = try await audit.tail(after: 0, limit: 10)
            #expect(stored.count == 1)
            let record = try #require(stored.first?.record)
            #expect(record.errorCode == "InvalidSignatureException")
            #expect(record.userIdentity.type == .unknown && record.userIdentity.accessKeyId == Fixture.admin.accessKeyId)
            #expect(record.requestParameters == nil)
            #expect(!record.isIntent)
            let bytes = await audit.canonicalRecords()[0]
            #expect(bytes.count < 4_096, "a refused request's record is a summary: \(bytes.count) bytes")
            #expect(!String(decoding: bytes, as: UTF8.self).contains(marker))
        }
    }

    @Test func anUnsignedRequestIsRefusedAndRecordedWithoutItsBody() async throws {
        try await withAuditedServer { port, audit in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: AWSJSON.contentType)
            request.headers.add(name: "X-Amz-Target", value: "TrentService.CreateKey")
            request.body = .bytes(ByteBuffer(bytes: Self.body(size: 900_000, marker: "UNSIGNED-BODY-")))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 400)
            #expect(text.contains("MissingAuthenticationTokenException"))
            let records = try await audit.tail(after: 0, limit: 10).map(\.record)
            #expect(records.map(\.errorCode) == ["MissingAuthenticationTokenException"])
            #expect(records.first?.requestParameters == nil)
            let bytes = await audit.canonicalRecords()[0]
            #expect(!String(decoding: bytes, as: UTF8.self).contains("UNSIGNED-BODY-"))
        }
    }

    @Test func anAuthenticatedRequestsParametersAreCappedWithAMarker() async throws {
        try await withAuditedServer { port, audit in
            let marker = "long-description-"
            let response = try await Self.send(
                port: port,
                target: "TrentService.CreateKey",
                body: Self.body(size: 200_000, marker: marker)
            )
            #expect(response.status != 500)
            let records = try await audit.tail(after: 0, limit: 10).map(\.record)
            // The intent and the outcome of the (refused) CreateKey, both capped.
            #expect(records.map(\.eventName) == ["CreateKey", "CreateKey"])
            for record in records {
                let parameters = try #require(record.requestParameters)
                #expect(parameters["truncated"] == .bool(true))
                guard let size = parameters["originalSize"]?.numberValue?.int64Value else {
                    Issue.record("no originalSize in \(parameters)")
                    continue
                }
                #expect(size > AuditRecorder.maximumParametersSize)
                #expect(parameters["prefix"]?.stringValue?.contains(marker) == true)
                #expect(CanonicalJSON.encode(parameters).count <= AuditRecorder.maximumParametersSize)
            }
            // Small parameters are kept whole.
            let small = try await Self.send(port: port, target: "TrentService.CreateKey", body: Self.body(size: 40, marker: "k"))
            #expect(small.status == 200)
            let last = try #require(try await audit.tail(after: 2, limit: 10).last?.record)
            #expect(last.requestParameters?["description"]?.stringValue == String(repeating: "k", count: 40))
        }
    }

    @Test func failedSignaturesAreThrottledPerSourceAddress() async throws {
        let policy = SignatureFailureLimiter.Policy(burst: 3, refill: .seconds(3_600))
        try await withAuditedServer(policy: policy) { port, audit in
            for _ in 0..<3 {
                let refused = try await Self.send(
                    port: port,
                    target: "TrentService.ListKeys",
                    body: Array("{}".utf8),
                    secret: "wrong"
                )
                #expect(refused.status == 400 && refused.code == "InvalidSignatureException")
            }
            // The address used its allowance: everything from it is refused at once, unrecorded.
            let throttled = try await Self.send(
                port: port,
                target: "TrentService.ListKeys",
                body: Array("{}".utf8),
                secret: "wrong"
            )
            #expect(throttled.status == 429 && throttled.code == "ThrottlingException")
            let signed = try await Self.send(port: port, target: "TrentService.ListKeys", body: Array("{}".utf8))
            #expect(signed.status == 429 && signed.code == "ThrottlingException")
            #expect(try await audit.chainHead().sequence == 3)
        }
    }

    @Test func correctlySignedRequestsAreNotThrottled() async throws {
        let policy = SignatureFailureLimiter.Policy(burst: 2, refill: .seconds(3_600))
        try await withAuditedServer(policy: policy) { port, _ in
            for _ in 0..<5 {
                let listed = try await Self.send(port: port, target: "TrentService.ListKeys", body: Array("{}".utf8))
                #expect(listed.status == 200)
            }
        }
    }
}

/// The limiter's table cannot be flooded: it stays bounded, and new addresses cannot evict a throttled one.
@Suite struct SignatureFailureLimiterTests {
    final class Clock: Sendable {
        let start = ContinuousClock.now
        private let offset = Mutex(Duration.zero)
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
        func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
    }

    @Test func theTableStaysBoundedAndAThrottledAddressStaysThrottled() {
        let clock = Clock()
        let limiter = SignatureFailureLimiter(
            policy: SignatureFailureLimiter.Policy(burst: 2, refill: .seconds(10), maximumAddresses: 8),
            now: { clock.now }
        )
        limiter.recordFailure(from: "10.0.0.1")
        limiter.recordFailure(from: "10.0.0.1")
        #expect(limiter.isThrottled("10.0.0.1"))
        for index in 0..<1_000 { limiter.recordFailure(from: "192.0.2.\(index)") }
        #expect(limiter.trackedAddresses <= 9)
        #expect(limiter.isThrottled("10.0.0.1"))
        // New addresses share the overflow bucket while the table is full: they are throttled together.
        #expect(limiter.isThrottled("198.51.100.1"))
        // Forgiven with time.
        clock.advance(.seconds(20))
        #expect(!limiter.isThrottled("10.0.0.1"))
        #expect(!limiter.isThrottled("203.0.113.9"))
    }
}
