import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMS
import NIOCore
import RegexBuilder
import Server
import SigV4
import Synchronization
import Testing

@Suite struct AuthenticationTests {
    static let listKeys = Array("{}".utf8)

    func rejection(_ send: Client.Send) async throws -> (HTTPResponse.Status, KMSError) {
        try await Fixture().withRouter { client in
            let response = try await client.raw(send)
            return (response.status, Client.error(response))
        }
    }

    @Test func anUnsignedRequestIsMissingAuthentication() async throws {
        let (status, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, user: nil)
        )
        #expect(status == .badRequest)
        #expect(error.code.rawValue == "MissingAuthenticationTokenException")
        #expect(error.message == "Missing Authentication Token")
    }

    @Test func anUnknownAccessKeyIsUnrecognized() async throws {
        let stranger = Authentication.User(
            accessKeyId: "AKIASTRANGER00000001",
            secretAccessKey: "whatever",
            principalARN: "arn:aws:iam::000000000000:user/stranger"
        )
        let (status, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, user: stranger)
        )
        #expect(status == .badRequest)
        #expect(error.code == .unrecognizedClientException)
        #expect(error.message == "The security token included in the request is invalid.")
    }

    /// The secret and the principal come from one lookup (on PostgreSQL, one round trip per request).
    @Test func aSignedRequestLooksItsAccessKeyUpOnce() async throws {
        let lookups = Mutex(0)
        let fixed = Authentication.fixed([Fixture.admin])
        let counted = Authentication { id in
            lookups.withLock { $0 += 1 }
            return try await fixed.credentials(id)
        }
        let status = try await Fixture(authentication: counted).withRouter { client in
            try await client.raw(.init(target: "TrentService.ListKeys", body: Self.listKeys)).status
        }
        #expect(status == .ok)
        #expect(lookups.withLock { $0 } == 1)
    }

    /// A lookup that names no principal for the key: the signature verifies, but nobody is behind it.
    @Test func aKeyWithoutAnOwnerIsUnrecognized() async throws {
        let fixed = Authentication.fixed([Fixture.admin])
        let ownerless = Authentication { id in
            guard var secret = try await fixed.credentials(id) else { return nil }
            secret.owner = nil
            return secret
        }
        let (status, error) = try await Fixture(authentication: ownerless).withRouter { client in
            let response = try await client.raw(.init(target: "TrentService.ListKeys", body: Self.listKeys))
            return (response.status, Client.error(response))
        }
        #expect(status == .badRequest)
        #expect(error.code == .unrecognizedClientException)
    }

    @Test func aWrongSecretIsAnInvalidSignature() async throws {
        var impostor = Fixture.admin
        impostor.secretAccessKey = "not/the/secret"
        let (status, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, user: impostor)
        )
        #expect(status == .badRequest)
        #expect(error.code == .invalidSignatureException)
        #expect(error.message.hasPrefix("The request signature we calculated does not match"))
    }

    @Test func aTamperedBodyIsAnInvalidSignature() async throws {
        let body = Array(#"{"NumberOfBytes":16}"#.utf8)
        let (status, error) = try await rejection(
            .init(target: "TrentService.GenerateRandom", body: body, tamper: { $0[$0.count - 3] = UInt8(ascii: "3") })
        )
        #expect(status == .badRequest)
        #expect(error.code == .invalidSignatureException)
    }

    @Test func aStaleSignatureHasExpired() async throws {
        let (status, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, date: Date().addingTimeInterval(-20 * 60))
        )
        #expect(status == .badRequest)
        #expect(error.code == .invalidSignatureException)
        let stamp = #/\d{8}T\d{6}Z/#
        let shape = Regex {
            "Signature expired: "
            stamp
            " is now earlier than "
            stamp
            " ("
            stamp
            " - 15 min.)"
        }
        #expect(error.message.wholeMatch(of: shape) != nil, "\(error.message)")
    }

    @Test func aFutureSignatureIsNotYetCurrent() async throws {
        let (_, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, date: Date().addingTimeInterval(20 * 60))
        )
        #expect(error.code == .invalidSignatureException)
        let stamp = #/\d{8}T\d{6}Z/#
        let shape = Regex {
            "Signature not yet current: "
            stamp
            " is still later than "
            stamp
            " ("
            stamp
            " + 15 min.)"
        }
        #expect(error.message.wholeMatch(of: shape) != nil, "\(error.message)")
    }

    @Test func anotherRegionIsAnInvalidSignature() async throws {
        let (_, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, region: "eu-west-1")
        )
        #expect(error.code == .invalidSignatureException)
    }

    @Test func anExpiredSessionTokenIsExpired() async throws {
        let (status, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, user: Fixture.session)
        )
        #expect(status == .badRequest)
        #expect(error.code == .expiredTokenException)
    }

    @Test func aWrongSessionTokenIsUnrecognized() async throws {
        let (_, error) = try await rejection(
            .init(target: "TrentService.ListKeys", body: Self.listKeys, user: Fixture.session, sessionToken: "forged")
        )
        #expect(error.code == .unrecognizedClientException)
    }

    @Test func aMalformedAuthorizationIsAnIncompleteSignature() async throws {
        try await Fixture().withRouter { client in
            let response = try await client.client.execute(
                uri: "/",
                method: .post,
                headers: [
                    .contentType: AWSJSON.contentType, HTTPField.Name("X-Amz-Target")!: "TrentService.ListKeys",
                    .authorization: "AWS4-HMAC-SHA256 Credential=nonsense",
                ],
                body: ByteBuffer(string: "{}")
            )
            #expect(response.status == .badRequest)
            #expect(Client.error(response).code.rawValue == "IncompleteSignatureException")
        }
    }
}

@Suite struct ObservabilityTests {
    @Test func healthNeedsNoSignature() async throws {
        try await Fixture().withRouter { client in
            let response = try await client.client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
        }
    }

    @Test func metricsCountRequestsByOperationAndOutcome() async throws {
        try await Fixture().withRouter { client in
            _ = try await client.send(CreateKeyRequest())
            _ = try await client.raw(.init(target: "TrentService.ListKeys", body: Array("{}".utf8), user: nil))
            _ = try await client.raw(.init(target: "TrentService.Nope", body: Array("{}".utf8)))
            let response = try await client.client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            #expect(text.contains(#"sealed_requests_total{operation="CreateKey",outcome="success"} 1"#))
            #expect(
                text.contains(
                    #"sealed_requests_total{operation="ListKeys",outcome="MissingAuthenticationTokenException"} 1"#
                )
            )
            #expect(text.contains(#"sealed_requests_total{operation="Unknown",outcome="UnknownOperationException"} 1"#))
            #expect(text.contains("sealed_request_duration_seconds_bucket"))
        }
    }

    @Test func metricsCountTheCacheEpochsReads() {
        let metrics = RequestMetrics()
        metrics.recordCacheEpochRead(callers: 3, duration: .microseconds(400), succeeded: true, moved: false)
        metrics.recordCacheEpochRead(callers: 2, duration: .milliseconds(3), succeeded: true, moved: true)
        metrics.recordCacheEpochRead(callers: 4, duration: .milliseconds(200), succeeded: false, moved: false)
        let text = metrics.exposition()
        #expect(text.contains(#"sealed_cache_epoch_reads_total{outcome="read"} 2"#), "\(text)")
        #expect(text.contains(#"sealed_cache_epoch_reads_total{outcome="failed"} 1"#), "\(text)")
        #expect(text.contains("sealed_cache_epoch_waiters_total 9"), "\(text)")
        #expect(text.contains("sealed_cache_epoch_changes_total 1"), "\(text)")
        #expect(text.contains("sealed_cache_epoch_read_duration_seconds_count 3"), "\(text)")
    }

    @Test func metricsCountTheAuditTrailsGroupCommits() {
        let metrics = RequestMetrics()
        metrics.recordAuditCommit(records: 3, duration: .microseconds(400), succeeded: true)
        metrics.recordAuditCommit(records: 5, duration: .milliseconds(3), succeeded: true)
        metrics.recordAuditCommit(records: 2, duration: .milliseconds(200), succeeded: false)
        let text = metrics.exposition()
        #expect(text.contains(#"sealed_audit_transactions_total{outcome="committed"} 2"#), "\(text)")
        #expect(text.contains(#"sealed_audit_transactions_total{outcome="failed"} 1"#), "\(text)")
        // Only committed records count.
        #expect(text.contains("sealed_audit_records_total 8"), "\(text)")
        #expect(text.contains(#"sealed_audit_commit_duration_seconds_bucket{le="0.0005"} 1"#), "\(text)")
        #expect(text.contains(#"sealed_audit_commit_duration_seconds_bucket{le="0.005"} 2"#), "\(text)")
        #expect(text.contains("sealed_audit_commit_duration_seconds_count 3"), "\(text)")
    }
}
