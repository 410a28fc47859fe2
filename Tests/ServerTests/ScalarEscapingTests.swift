import Testing

@testable import JetStreamBus
@testable import SealedEvents
@testable import Server

/// Escapers match Unicode scalars, not `Character`s: a special character followed by a combining mark is one
/// `Character`, which a character-wise escaper passes through raw (found by the `json-pointer` fuzz target in JSON
/// Pointer; the same pattern was in these).
@Suite struct ScalarEscapingTests {
    @Test func stsXMLTextEscapesSpecialCharactersBeforeCombiningMarks() {
        #expect(STSRoutes.escape("<\u{0301}x&\u{0308}'\"") == "&lt;\u{0301}x&amp;\u{0308}&apos;&quot;")
    }

    @Test func jetStreamNamesStayOneToOne() {
        #expect(JetStreamTransport.escape("a.\u{0301}_b") == "a_d\u{0301}__b")
        #expect(JetStreamTransport.escape("a.\u{0301}") != JetStreamTransport.escape("a_d\u{0301}"))
    }

    @Test func shellWordsQuoteAQuoteBeforeACombiningMark() {
        #expect(SealedEventsError.AccessDenied.shellWord("it'\u{0301}s") == "'it'\\''\u{0301}s'")
    }
}
