/// Lines and columns of byte offsets in a UTF-8 text, for error messages that point into JSON a person wrote.
///
/// Lines count from 1 after each line feed; columns count from 1 in Unicode scalars (UTF-8 continuation bytes do
/// not count). Offsets asked in increasing order — as ``JSONParser/offsets`` lists them — cost one pass over the
/// text in all; an earlier offset starts the count again from ``start``.
package struct JSONTextPositions {
    private let bytes: [UInt8]
    /// Where line 1, column 1 is: after a skipped byte-order mark, else 0.
    package let start: Int
    private var offset: Int
    private var line = 1
    private var column = 1

    /// Positions in `bytes`, counting from `start`.
    package init(_ bytes: [UInt8], start: Int = 0) {
        self.bytes = bytes
        self.start = start
        self.offset = start
    }

    /// Positions in `text`, counting after a UTF-8 byte-order mark if it has one (as ``JSONParser`` skips it under
    /// ``JSONParser/ByteOrderMark/skip``).
    package init(skippingByteOrderMarkOf text: String) {
        let bytes = Array(text.utf8)
        let hasMark = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        self.init(bytes, start: hasMark ? 3 : 0)
    }

    /// The 1-based line and column of `target` (clamped to the text).
    package mutating func lineAndColumn(of target: Int) -> (line: Int, column: Int) {
        let target = min(max(target, start), bytes.count)
        if target < offset {
            offset = start
            line = 1
            column = 1
        }
        while offset < target {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            offset += 1
        }
        return (line, column)
    }
}
