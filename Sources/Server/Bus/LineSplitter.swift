/// Splits a byte stream into newline-delimited lines (a `\r` before the `\n` dropped), holding at most `maximum` bytes
/// of a line: a longer line is skipped up to its newline without being kept, and reported with its size only.
struct LineSplitter {
    /// One line of the stream, numbered from 1.
    enum Line: Equatable {
        /// A line of at most ``LineSplitter/maximum`` bytes, without its line end.
        case complete([UInt8], number: Int)
        /// A line longer than ``LineSplitter/maximum``: its size up to its newline; its bytes were dropped.
        case tooLong(size: Int, number: Int)
    }

    /// The longest line kept, in bytes.
    let maximum: Int
    /// The start of a line whose end has not arrived yet.
    private var partial: [UInt8] = []
    /// The size so far of a line longer than ``maximum`` that is being skipped.
    private var skipped: Int?
    /// The number of the last line returned.
    private(set) var lineNumber = 0

    init(maximum: Int) {
        precondition(maximum > 0)
        self.maximum = maximum
    }

    /// The lines `bytes` completes, in order; the rest is kept for the next call.
    mutating func lines(in bytes: UnsafeRawBufferPointer) -> [Line] {
        var lines: [Line] = []
        var start = 0
        while start < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else {
                append(rest)
                break
            }
            append(UnsafeRawBufferPointer(rebasing: rest[..<newline]))
            lines.append(endLine())
            start += newline + 1
        }
        return lines
    }

    /// The last line, when the stream ended without a newline after it.
    mutating func finish() -> Line? {
        guard skipped != nil || !partial.isEmpty else { return nil }
        return endLine()
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if let size = skipped {
            skipped = size + bytes.count
        } else if partial.count + bytes.count > maximum + 1 {
            // One byte of slack: the `\r` of a CRLF line end of a line of exactly `maximum` bytes.
            skipped = partial.count + bytes.count
            partial = []
        } else {
            partial.append(contentsOf: bytes)
        }
    }

    private mutating func endLine() -> Line {
        lineNumber += 1
        if let size = skipped {
            skipped = nil
            return .tooLong(size: size, number: lineNumber)
        }
        if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
        if partial.count > maximum {
            let size = partial.count
            partial = []
            return .tooLong(size: size, number: lineNumber)
        }
        defer { partial = [] }
        return .complete(partial, number: lineNumber)
    }
}
