import SealedEvents
import Testing

/// JSON Pointer (RFC 6901): parsing, escaping, evaluation, set and remove.
struct JSONPointerTests {
    /// The example document of RFC 6901 § 5.
    static let rfcDocument: JSONValue = try! JSONValue(
        parsing: #"{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8}"#
    )

    @Test(arguments: [
        ("", #"{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8}"#),
        ("/foo", #"["bar","baz"]"#), ("/foo/0", #""bar""#), ("/", "0"), ("/a~1b", "1"), ("/c%d", "2"),
        ("/e^f", "3"), ("/g|h", "4"), ("/i\\j", "5"), ("/k\"l", "6"), ("/ ", "7"), ("/m~0n", "8"),
    ])
    func rfcExamples(pointer: String, expected: String) throws {
        let value = try Self.rfcDocument.value(at: JSONPointer(pointer))
        #expect(value == (try JSONValue(parsing: expected)))
    }

    @Test func escapingRoundTrips() throws {
        let pointer = try JSONPointer("/a~1b/m~0n/~01/~10")
        #expect(pointer.tokens == ["a/b", "m~n", "~1", "/0"])
        #expect(pointer.description == "/a~1b/m~0n/~01/~10")
        #expect(JSONPointer(tokens: ["x/y", "~"]).description == "/x~1y/~0")
        #expect(try JSONPointer("").isRoot)
        #expect(try JSONPointer("/").tokens == [""])
        #expect(try JSONPointer("//").tokens == ["", ""])
    }

    @Test(arguments: ["a", "a/b", "/a~", "/a~2", "/~x", "#/a"])
    func malformedPointersAreTypedErrors(text: String) {
        #expect(throws: SealedEventsError(.invalidPointer, "")) { try JSONPointer(text) }
    }

    @Test(arguments: ["/missing", "/foo/2", "/foo/-", "/foo/0/x", "/m~0n/x", "/a~1b/0", "/nope/deeper"])
    func missingPathsAreTypedErrors(text: String) throws {
        let pointer = try JSONPointer(text)
        #expect(throws: SealedEventsError(.pointerNotFound, "")) { try Self.rfcDocument.value(at: pointer) }
        var copy = Self.rfcDocument
        #expect(throws: SealedEventsError(.pointerNotFound, "")) { try copy.removeValue(at: pointer) }
        #expect(copy == Self.rfcDocument, "a failed removal changes nothing")
    }

    @Test(arguments: ["/foo/01", "/foo/+1", "/foo/1.0", "/foo/x", "/foo/-1"])
    func nonIndexTokensIntoArraysAreInvalid(text: String) throws {
        #expect(throws: SealedEventsError(.invalidPointer, "")) { try Self.rfcDocument.value(at: JSONPointer(text)) }
    }

    @Test func setReplacesInPlaceAddsAndAppends() throws {
        var document: JSONValue = ["a": ["x": 1, "y": 2], "list": [1, 2], "z": true]
        try document.setValue("new", at: JSONPointer("/a/x"))
        try document.setValue(3, at: JSONPointer("/a/w"))
        try document.setValue(9, at: JSONPointer("/list/-"))
        try document.setValue(8, at: JSONPointer("/list/3"))
        try document.setValue(0, at: JSONPointer("/list/0"))
        #expect(document.jsonString() == #"{"a":{"x":"new","y":2,"w":3},"list":[0,2,9,8],"z":true}"#)
        #expect(throws: SealedEventsError(.pointerNotFound, "")) {
            try document.setValue(1, at: JSONPointer("/list/9"))
        }
        #expect(throws: SealedEventsError(.pointerNotFound, "")) { try document.setValue(1, at: JSONPointer("/no/x")) }
        #expect(throws: SealedEventsError(.pointerNotFound, "")) { try document.setValue(1, at: JSONPointer("/z/x")) }
        try document.setValue("root", at: .root)
        #expect(document == "root")
    }

    @Test func removeTakesMembersAndElements() throws {
        var document: JSONValue = ["a": ["x": 1, "y": 2], "list": [1, 2, 3]]
        #expect(try document.removeValue(at: JSONPointer("/a/x")) == 1)
        #expect(try document.removeValue(at: JSONPointer("/list/1")) == 2)
        #expect(document.jsonString() == #"{"a":{"y":2},"list":[1,3]}"#)
        #expect(throws: SealedEventsError(.invalidPointer, "")) { try document.removeValue(at: .root) }
    }

    @Test func prefixes() throws {
        #expect(try JSONPointer("/a").isPrefix(of: JSONPointer("/a/b")))
        #expect(try !JSONPointer("/a").isPrefix(of: JSONPointer("/ab")))
        #expect(try JSONPointer.root.isPrefix(of: JSONPointer("/x")))
        #expect(try JSONPointer("/a/b") == JSONPointer(tokens: ["a", "b"]))
    }

    /// Found by the `json-pointer` fuzz target: a `/` or `~` followed by a combining mark is one `Character`, and was
    /// written unescaped, so the text named other tokens. Escaping works on scalars.
    @Test(arguments: [["a/\u{0612}b"], ["~\u{0301}", "x"], ["/\u{20DD}", "~\u{0308}~"]])
    func tokensWithCombiningMarksRoundTrip(tokens: [String]) throws {
        let pointer = JSONPointer(tokens: tokens)
        #expect(try JSONPointer(pointer.description) == pointer, "\(pointer.description.unicodeScalars.map(\.value))")
        #expect(pointer.description.unicodeScalars.count(where: { $0 == "/" }) == tokens.count)
    }
}
