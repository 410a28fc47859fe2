import SealedSupport
import Testing

/// Offsets, lines and columns, and paths: what the policy parser builds its error messages from.
struct JSONPositionTests {
    private let recording = JSONParser.Options(recordsPaths: true, recordsOffsets: true)

    @Test func offsetsListEveryValueAndMemberNameInDocumentOrder() throws {
        let text = #"{"a": [1, "x"], "b": {"c": null}}"#
        let (_, offsets) = try JSONParser.parseDocument(Array(text.utf8), options: recording)
        // {  "a"  [  1  "x"  "b"  {  "c"  null
        #expect(offsets == [0, 1, 6, 7, 10, 16, 21, 22, 27])
        let (_, none) = try JSONParser.parseDocument(Array(text.utf8), options: JSONParser.Options())
        #expect(none.isEmpty, "offsets are recorded only when asked")
    }

    @Test func linesAndColumnsCountScalarsFromOneAfterALineFeed() {
        let text = "ab\n é€🔑x\r\ny"
        var positions = JSONTextPositions(Array(text.utf8))
        #expect(positions.lineAndColumn(of: 0) == (1, 1))
        #expect(positions.lineAndColumn(of: 2) == (1, 3))
        #expect(positions.lineAndColumn(of: 3) == (2, 1))
        let x = Array(text.utf8).firstIndex(of: UInt8(ascii: "x"))!
        #expect(positions.lineAndColumn(of: x) == (2, 5), "é, € and 🔑 are one column each")
        #expect(positions.lineAndColumn(of: x + 1) == (2, 6), "a carriage return is a column")
        #expect(positions.lineAndColumn(of: 1) == (1, 2), "an earlier offset counts again from the start")
        #expect(positions.lineAndColumn(of: 1_000) == (3, 2), "clamped to the end")
    }

    @Test func aSkippedByteOrderMarkTakesNoColumn() throws {
        let text = "\u{FEFF}{\"a\": tru}"
        var positions = JSONTextPositions(skippingByteOrderMarkOf: text)
        #expect(positions.start == 3)
        let options = JSONParser.Options(byteOrderMark: .skip, recordsOffsets: true)
        #expect(throws: JSONSyntaxError(.invalidLiteral("true"), at: 9)) {
            try JSONParser.parse(Array(text.utf8), options: options)
        }
        #expect(positions.lineAndColumn(of: 9) == (1, 7))
        #expect(JSONTextPositions(skippingByteOrderMarkOf: "{}").start == 0)
    }

    @Test(arguments: [
        (#"tru"#, "$"),
        (#"{"a": [1, {"b": tru}]}"#, "$.a[1].b"),
        (#"{"a": [1, 2 3]}"#, "$.a"),
        (#"{"a": 1 "b": 2}"#, "$"),
        (#"{"a" 1}"#, "$.a"),
        (#"{"a": {"b": 1, "b": 2}}"#, "$.a.b"),
        (#"{"a": 1} x"#, "$"),
    ])
    func errorsNameThePathOfTheValueBeingRead(text: String, path: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(text.utf8), options: recording) }
        do {
            _ = try JSONParser.parse(Array(text.utf8), options: recording)
        } catch {
            #expect(error.path == path, "\(text)")
        }
        do {
            _ = try JSONParser.parse(Array(text.utf8))
        } catch {
            #expect(error.path == nil, "paths are recorded only when asked")
        }
    }
}
