import AccessControl
import AuditTrail
import Catalog
import Composition
import EventBus
import Foundation
import SealedServerTesting
import SealedTesting
import Server
import Testing

/// schemathesis (the pinned one of the peers' venv) against a live server, every request signed by botocore's
/// SigV4Auth (`scripts/peers/schemathesis_sigv4.py`): it reads the document the server serves at
/// `GET /v1/openapi.json`, generates valid and invalid requests for every operation (the document's examples name the
/// fixture below, so the valid ones also succeed), and checks that no answer is a 5xx and that every answer's status,
/// content type and body are ones the document gives that operation — so every refusal has the error shape.
///
/// Bounded: a fixed seed, `examples` per operation and phase, one worker, and a hard `deadline` after which the run is
/// stopped and the test fails (`SEALED_CONTRACT_EXAMPLES` and `SEALED_CONTRACT_SEED` run it deeper or elsewhere). A
/// local run without the venv skips; with `CI=true` it fails.
@Suite struct SchemathesisTests {
    /// Generated requests per operation and phase: 10, or `SEALED_CONTRACT_EXAMPLES` for a deeper run by hand.
    static let examples = ProcessInfo.processInfo.environment["SEALED_CONTRACT_EXAMPLES"].flatMap { Int($0) } ?? 10
    /// hypothesis's seed: 23, or `SEALED_CONTRACT_SEED` to explore other requests.
    static let seed = ProcessInfo.processInfo.environment["SEALED_CONTRACT_SEED"].flatMap { Int($0) } ?? 23
    /// The most the run may take; it takes well under this.
    static var deadline: Duration { .seconds(240 * max(1, examples / 10)) }
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
    ]

    @Test func aLiveServerKeepsItsOpenAPIContract() async throws {
        guard let schemathesis = try TestEnvironment.peerCommand("schemathesis") else { return }
        let hooks = TestEnvironment.peerScripts.appendingPathComponent("schemathesis_sigv4.py")
        let config = TestEnvironment.peerScripts.appendingPathComponent("schemathesis.toml")
        for file in [hooks, config] {
            try #require(FileManager.default.fileExists(atPath: file.path), "missing \(file.path)")
        }
        let fixture = try await Self.world()
        // hypothesis keeps its example database in the working folder: a temporary one, removed after.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("schemathesis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let server = SealedServer(fixture.platform, configuration: .init(port: 0), logger: Fixture.logger)
        let clock = ContinuousClock()
        let started = clock.now
        let run = try await withLiveServer(server, logger: Fixture.logger) { port in
            try await ChildProcess.run(
                schemathesis,
                arguments: [
                    "--config-file", config.path,
                    "run", "http://127.0.0.1:\(port)/v1/openapi.json",
                    "--checks", Self.checks.joined(separator: ","),
                    "--phases", "examples,coverage,fuzzing,stateful",
                    "--max-examples", "\(Self.examples)",
                    "--seed", "\(Self.seed)",
                    "--workers", "1",
                    "--continue-on-failure",
                    "--suppress-health-check", "all",
                    "--no-color",
                ],
                environment: [
                    "SCHEMATHESIS_HOOKS": hooks.path,
                    "SEALED_ACCESS_KEY_ID": fixture.admin.id,
                    "SEALED_SECRET_ACCESS_KEY": fixture.admin.secret,
                    "SEALED_REGION": fixture.platform.configuration.region,
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
                ],
                directory: folder,
                mergingErrors: true,
                deadline: Self.deadline
            )
        }
        #expect(!run.timedOut, "schemathesis ran past \(Self.deadline) and was stopped:\n\(run.output)")
        #expect(run.status == 0, "schemathesis found answers that break the contract:\n\(run.output)")
        // What it exercised, in the test's log.
        print(run.output)
        print("schemathesis, with the server's start and graceful stop, ran for \(clock.now - started)")

        // botocore signed every request: the server's verifier must have taken each one.
        var refused: [String] = []
        var after: Int64 = 0
        while true {
            let page = try await fixture.audit.query(AuditQuery(errorsOnly: true, afterSequence: after, limit: 1000))
            guard let last = page.last else { break }
            after = last.sequence
            refused += page.compactMap { stored in
                let code = stored.record.errorCode ?? ""
                guard Self.signatureRefusals.contains(code) else { return nil }
                let parameters = stored.record.requestParameters.map { $0.jsonString() } ?? "-"
                return "\(stored.record.eventName) \(parameters): \(code) \(stored.record.errorMessage ?? "")"
            }
        }
        #expect(refused.isEmpty, "requests botocore signed were refused: \(refused.prefix(20))")
    }

    /// The codes of a refused signature.
    static let signatureRefusals: Set<String> = [
        "MissingAuthenticationTokenException", "IncompleteSignatureException", "InvalidSignatureException",
        "UnrecognizedClientException", "ExpiredTokenException", "ThrottlingException",
    ]

    /// The platform in memory with what the document's examples name: the team and domain `payments`, its user
    /// `alice`, the role `auditor`, the public event type `payments.card-charged`, the topic `orders` holding one event
    /// of it, and a pending access request of alice's.
    static func world() async throws -> PlatformFixture {
        let fixture = try await PlatformFixture(logger: Fixture.logger)
        let admin = fixture.platform.administratorARN
        _ = try await fixture.identities.createTeam("payments", by: .platform)
        let (alice, _) = try await fixture.identities.createUser("alice", team: "payments", by: .platform)
        _ = try await fixture.identities.createRole(
            "auditor",
            trustPolicy: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(alice.arn)"},"#
                + #""Action":"sts:AssumeRole"}]}"#,
            by: .platform
        )
        _ = try await fixture.catalog.createDomain("payments", owner: "payments", by: admin)
        _ = try await fixture.catalog.createEventType(
            .init(name: "payments.card-charged", domain: "payments", classification: .public),
            by: admin
        )
        let transport = fixture.platform.bus.transport
        _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
        let envelope =
            #"{"metaData":{"eventId":"fixture-1","eventType":"payments.card-charged","domain":"payments","#
            + #""source":"fixture","classification":"public"},"data":{"amount":42}}"#
        _ = try await transport.publish([OutgoingEvent(eventID: "fixture-1", payload: Array(envelope.utf8))], to: "orders")
        _ = try await fixture.access.request(
            "payments.card-charged",
            justification: "reconciliation",
            durationSeconds: 3600,
            by: alice.arn
        )
        return fixture
    }
}

