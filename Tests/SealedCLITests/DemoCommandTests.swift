import Foundation
import SealedTesting
import Testing

/// `sealed demo` plays the whole pattern against a server it starts, checking every step; it exits 0 only when all
/// of them behaved as told.
struct DemoCommandTests {
    @Test func theDemoPlaysEveryStepAndExitsZero() async throws {
        let run = try await ESDKCommandTests.sealed(["demo"])
        let output = String(decoding: run.stdout, as: UTF8.self)
        #expect(run.status == 0, "\(output)\n\(run.stderr)")
        #expect(output.contains("✓ every step behaved as told."))
        for step in [
            "refused: no access to event type payments.card.captured",
            "request it with: sealed access request payments.card.captured",
            "approved by payments-reviewer",
            "same key, other event type: KMS AccessDeniedException",
            "refused: EventNotSealed",
            "every record under a signed digest",
        ] {
            #expect(output.contains(step), "missing: \(step)")
        }
        #expect(!output.contains("✗"))
    }
}

/// The same story with the event bus on NATS JetStream: governance, audit and the SDK unchanged.
@Suite(.serialized)
struct DemoOnJetStreamTests {
    @Test func theDemoPlaysOnJetStream() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let nats = try NATSServer(binary: binary)
        defer { nats.stop() }
        let run = try await ESDKCommandTests.sealed(["demo", "--bus", nats.url])
        let output = String(decoding: run.stdout, as: UTF8.self)
        #expect(run.status == 0, "\(output)\n\(run.stderr)\n\(nats.log())")
        #expect(output.contains("(bus \(nats.url))"))
        #expect(output.contains("✓ every step behaved as told."))
        #expect(output.contains("refused: EventNotSealed"))
    }
}
