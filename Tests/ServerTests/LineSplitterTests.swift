@testable import Server
import Testing

/// The publish stream's line splitter: lines cut anywhere by the network, CRLF line ends, a last line without a newline,
/// and lines over the limit skipped without being kept, whatever the chunking.
@Suite struct LineSplitterTests {
    /// Feeds `text` in chunks of `size` bytes and returns every line, the last one included.
    func split(_ text: String, maximum: Int, chunk size: Int) -> [LineSplitter.Line] {
        var splitter = LineSplitter(maximum: maximum)
        let bytes = Array(text.utf8)
        var lines: [LineSplitter.Line] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            lines += bytes[start..<end].withUnsafeBytes { splitter.lines(in: $0) }
            start = end
        }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64])
    func everyChunkingGivesTheSameLines(chunk: Int) {
        let text = "{\"a\":1}\r\n\nabcdefghijklmnop\n0123456789\r\nlast"
        #expect(
            split(text, maximum: 10, chunk: chunk) == [
                .complete(Array("{\"a\":1}".utf8), number: 1),
                .complete([], number: 2),
                .tooLong(size: 16, number: 3),
                .complete(Array("0123456789".utf8), number: 4),
                .complete(Array("last".utf8), number: 5),
            ]
        )
    }

    @Test func aLineOfExactlyTheLimitIsKeptWithItsCRLFAndOneMoreByteIsNot() {
        #expect(split("0123456789\r\n", maximum: 10, chunk: 4) == [.complete(Array("0123456789".utf8), number: 1)])
        #expect(split("0123456789a\r\n", maximum: 10, chunk: 4) == [.tooLong(size: 12, number: 1)])
        #expect(split("0123456789a", maximum: 10, chunk: 100) == [.tooLong(size: 11, number: 1)])
    }

    @Test func nothingAfterTheLastNewlineIsNoLine() {
        #expect(split("a\nb\n", maximum: 10, chunk: 1).count == 2)
        #expect(split("", maximum: 10, chunk: 1).isEmpty)
    }
}
