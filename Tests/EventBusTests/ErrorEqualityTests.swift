import EventBus
import Testing

/// Bus errors compare and hash by their code alone and describe themselves as `code: reason` (`CodedError`).
struct ErrorEqualityTests {
    @Test func busErrors() {
        let error = BusError(.noSuchTopic, "no topic named orders")
        #expect(error == BusError(.noSuchTopic, "other words"))
        #expect(error != BusError(.topicExists, "no topic named orders"))
        #expect(error.hashValue == BusError(.noSuchTopic, "").hashValue)
        #expect(error.description == "noSuchTopic: no topic named orders")
    }
}
