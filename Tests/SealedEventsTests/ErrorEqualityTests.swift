import SealedEvents
import Testing

/// SDK errors compare and hash by their code alone and describe themselves as before (`CodedError`).
struct ErrorEqualityTests {
    @Test func sealedEventsErrors() {
        let error = SealedEventsError(.bindingMismatch, "the event id differs")
        #expect(error == SealedEventsError(.bindingMismatch, "other words"))
        #expect(error != SealedEventsError(.malformedEnvelope, "the event id differs"))
        #expect(error.hashValue == SealedEventsError(.bindingMismatch, "").hashValue)
        #expect(error.description == "bindingMismatch: the event id differs")
        let denied = SealedEventsError.AccessDenied(
            keyArn: "arn:k",
            eventType: "a.b",
            refusal: "KMS AccessDeniedException"
        )
        let withHint = SealedEventsError(.accessDenied, "no access", accessDenied: denied)
        #expect(withHint.description == "accessDenied: no access: \(denied)")
    }
}
