import Foundation
import KMS
import SealedTesting
import Server
import SigV4
import Synchronization
import Testing
import WireShapes

/// Authentication by a signed STS `GetCallerIdentity` (the Vault AWS IAM method), against moto's STS with IAM
/// enforced: the caller is who STS says; forged, unknown-key, other-server, unsigned-audience, old,
/// other-action and other-endpoint requests are each refused with their reason.
struct CallerIdentityTests {
    static let audience = "sealed-test-server"

    /// moto's STS, counting how often it is asked.
    final class CountingSTS: CallerIdentityResolver {
        let sts: STSClient
        let calls = Mutex(0)

        init(_ sts: STSClient) { self.sts = sts }

        func callerIdentity(of request: SignedCallerIdentity) async throws(CallerIdentityRefusal) -> GetCallerIdentityResponse {
            calls.withLock { $0 += 1 }
            return try await sts.callerIdentity(of: request)
        }
    }

    static func sts(_ moto: MotoFixture, _ user: MotoFixture.User) throws -> STSClient {
        try STSClient(
            region: moto.region,
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey)
            ),
            endpoint: moto.endpointURL,
            options: ClientOptions(maxAttempts: 1, timeout: .seconds(10))
        )
    }

    /// The server's side: its own STS client (its credentials play no part: requests are forwarded as signed).
    static func authenticator(_ moto: MotoFixture, now: @escaping @Sendable () -> Date = { Date() }) throws
        -> (CallerIdentityAuthenticator, CountingSTS)
    {
        let sts = CountingSTS(try Self.sts(moto, moto.denied))
        return (CallerIdentityAuthenticator(audience: Self.audience, resolver: sts, now: now), sts)
    }

    static func refusal(_ body: () async throws -> Any) async -> CallerIdentityRefusal? {
        do {
            _ = try await body()
            return nil
        } catch let refusal as CallerIdentityRefusal {
            return refusal
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func theCallerIsWhoSTSSaysAndAConfirmedRequestIsReused() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (authenticator, sts) = try Self.authenticator(moto)
        let proof = try await Self.sts(moto, moto.allowed).signedCallerIdentity(audience: Self.audience)
        #expect(proof.value(of: SignedCallerIdentity.audienceHeader) == Self.audience)
        let caller = try await authenticator.authenticate(proof.encoded)
        #expect(caller.arn == moto.allowed.arn)
        #expect(caller.account == moto.account)
        #expect(caller.accessKeyId == moto.allowed.accessKeyId)
        #expect(try await authenticator.authenticate(proof.encoded) == caller)
        #expect(sts.calls.withLock { $0 } == 1, "the confirmed request is remembered until it expires")
        // Another user's request is another caller.
        let other = try await Self.sts(moto, moto.iamAdmin).signedCallerIdentity(audience: Self.audience)
        #expect(try await authenticator.authenticate(other.encoded).arn == moto.iamAdmin.arn)
    }

    @Test func forgedAndUnknownSignaturesAreRefusedBySTS() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (authenticator, _) = try Self.authenticator(moto)
        var forged = try await Self.sts(moto, moto.allowed).signedCallerIdentity(audience: Self.audience)
        let index = try #require(forged.headers.firstIndex { $0.name == "Authorization" })
        let authorization = forged.headers[index].value
        let flipped: Character = authorization.last == "0" ? "1" : "0"
        forged.headers[index].value = String(authorization.dropLast()) + String(flipped)
        #expect(await Self.refusal { try await authenticator.authenticate(forged.encoded) }?.code == .rejectedBySTS)

        let stranger = MotoFixture.User(
            arn: "arn:aws:iam::\(moto.account):user/nobody",
            accessKeyId: "AKIAUNKNOWN000000000",
            secretAccessKey: "not-a-key-moto-knows"
        )
        let unknown = try await Self.sts(moto, stranger).signedCallerIdentity(audience: Self.audience)
        #expect(await Self.refusal { try await authenticator.authenticate(unknown.encoded) }?.code == .rejectedBySTS)
    }

    @Test func aRequestForAnotherServerOrWithoutASignedAudienceIsRefused() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (authenticator, sts) = try Self.authenticator(moto)
        let elsewhere = try await Self.sts(moto, moto.allowed).signedCallerIdentity(audience: "another-server")
        let refusal = await Self.refusal { try await authenticator.authenticate(elsewhere.encoded) }
        #expect(refusal?.code == .wrongAudience)
        #expect(refusal?.message.contains("another server") == true)

        // Retargeted after signing: the audience header changed; caught before STS (or by it, as the signature breaks).
        var retargeted = elsewhere
        let index = try #require(retargeted.headers.firstIndex { $0.name == SignedCallerIdentity.audienceHeader })
        retargeted.headers[index].value = Self.audience
        #expect(await Self.refusal { try await authenticator.authenticate(retargeted.encoded) }?.code == .rejectedBySTS)

        // The audience added after signing: not among the signed headers.
        var unsigned = try await Self.sts(moto, moto.allowed).signedCallerIdentity(audience: Self.audience)
        let authorization = try #require(unsigned.headers.firstIndex { $0.name == "Authorization" })
        unsigned.headers[authorization].value = unsigned.headers[authorization].value.replacingOccurrences(
            of: ";x-sealed-server-id",
            with: ""
        )
        #expect(await Self.refusal { try await authenticator.authenticate(unsigned.encoded) }?.code == .wrongAudience)
        #expect(sts.calls.withLock { $0 } == 1, "only the retargeted request reached STS")
    }

    @Test func oldOtherActionAndOtherEndpointRequestsAreRefused() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let proof = try await Self.sts(moto, moto.allowed).signedCallerIdentity(audience: Self.audience)
        for offset: TimeInterval in [-16 * 60, 16 * 60] {
            let (late, sts) = try Self.authenticator(moto, now: { Date().addingTimeInterval(offset) })
            let refusal = await Self.refusal { try await late.authenticate(proof.encoded) }
            #expect(refusal?.code == .expired)
            #expect(sts.calls.withLock { $0 } == 0)
        }
        let (authenticator, _) = try Self.authenticator(moto)
        var assumeRole = proof
        assumeRole.requestBody = "Action=AssumeRole&Version=2011-06-15&RoleArn=\(moto.role.arn)&RoleSessionName=x"
        #expect(await Self.refusal { try await authenticator.authenticate(assumeRole.encoded) }?.code == .notGetCallerIdentity)
        var post = proof
        post.method = "GET"
        #expect(await Self.refusal { try await authenticator.authenticate(post.encoded) }?.code == .notGetCallerIdentity)

        var otherHost = proof
        let host = try #require(otherHost.headers.firstIndex { $0.name == "Host" })
        otherHost.headers[host].value = "sts.attacker.example"
        #expect(await Self.refusal { try await authenticator.authenticate(otherHost.encoded) }?.code == .wrongEndpoint)
    }

    @Test(arguments: ["", "not base64!", "e30=", String(repeating: "A", count: 9000)])
    func malformedHeadersAreRefusedWithoutAskingSTS(header: String) async throws {
        final class Never: CallerIdentityResolver {
            func callerIdentity(of request: SignedCallerIdentity) async throws(CallerIdentityRefusal) -> GetCallerIdentityResponse {
                Issue.record("STS was asked about a malformed header")
                throw CallerIdentityRefusal(.stsUnavailable, "never")
            }
        }
        let authenticator = CallerIdentityAuthenticator(audience: Self.audience, resolver: Never())
        #expect(await Self.refusal { try await authenticator.authenticate(header) }?.code == .malformed)
    }

    @Test func theHeaderRoundTrips() throws {
        let proof = SignedCallerIdentity(headers: [(name: "Host", value: "sts.amazonaws.com"), (name: "A", value: "b \"c\"")])
        #expect(try SignedCallerIdentity(encoded: proof.encoded) == proof)
        #expect(SignedCallerIdentity.amzDate("20261205T013000Z") == Date(timeIntervalSince1970: 1_796_434_200))
        #expect(SignedCallerIdentity.amzDate("2026-12-05T01:30:00Z") == nil)
    }
}
