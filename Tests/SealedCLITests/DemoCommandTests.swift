import Foundation
import Testing

/// `sealed demo` plays the whole pattern against a server it starts, checking every step; it exits 0 only when all
/// of them behaved as told.
struct DemoCommandTests {
    @Test func theDemoPlaysEveryStepAndExitsZero() throws {
        let run = try ESDKCommandTests.sealed(["demo"])
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
