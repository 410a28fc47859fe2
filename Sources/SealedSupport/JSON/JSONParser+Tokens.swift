internal import Foundation  // memchr, memcmp

extension JSONParser {
    // MARK: - Strings

    /// Parses a string (the parser at its opening quote): escapes decoded, UTF-8 checked, control characters refused.
    package mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1  // opening quote
        let start = position
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        // Fast path: no escapes, the text is the input's bytes.
        position = JSONScan.firstSpecialStringByte(in: units, from: start)
        guard position < bytes.count else { throw failure(.unterminatedString) }
        if bytes[position] == UInt8(ascii: "\"") {
            guard let text = Self.validUTF8String(UnsafeRawBufferPointer(rebasing: bytes[start..<position])) else {
                throw failure(.invalidUTF8, at: start)
            }
            position += 1
            return text
        }
        guard bytes[position] == UInt8(ascii: "\\") else { throw failure(.controlCharacter) }
        var buffer = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = buffer.withUnsafeBytes(Self.validUTF8String) else {
                    throw failure(.invalidUTF8, at: start)
                }
                position += 1
                return text
            case UInt8(ascii: "\\"):
                try decodeEscape(into: &buffer)
            default:
                guard byte >= 0x20 else { throw failure(.controlCharacter) }
                let end = JSONScan.firstSpecialStringByte(in: units, from: position + 1)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[position..<end]))
                position = end
            }
        }
        throw failure(.unterminatedString)
    }

    /// Decodes the escape at the parser's backslash into `buffer`; errors point at the backslash.
    private mutating func decodeEscape(into buffer: inout [UInt8]) throws(JSONSyntaxError) {
        let backslash = position
        position += 1
        guard position < bytes.count else { throw failure(.unterminatedString) }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4(escape: backslash)
            if (0xD800...0xDBFF).contains(scalar) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw failure(.unpairedSurrogate, at: backslash) }
                position += 2
                let low = try hex4(escape: backslash)
                guard (0xDC00...0xDFFF).contains(low) else { throw failure(.unpairedSurrogate, at: backslash) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw failure(.unpairedSurrogate, at: backslash)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw failure(.invalidUnicodeEscape, at: backslash) }
            UTF8.encode(unicode) { buffer.append($0) }
        default:
            throw failure(.invalidEscape, at: backslash)
        }
    }

    private mutating func hex4(escape: Int) throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure(.invalidUnicodeEscape, at: escape) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure(.invalidUnicodeEscape, at: escape)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// Skips a string (the parser at its opening quote) without decoding it; returns the range of its raw content
    /// (between the quotes) and whether it holds escapes.
    ///
    /// Finds the closing quote with `memchr` (strings are most of a record's bytes). It checks where the string ends,
    /// not what it holds: control characters, escapes and UTF-8 are checked by ``parseString()``.
    @discardableResult
    package mutating func skipString() throws(JSONSyntaxError) -> (range: Range<Int>, escaped: Bool) {
        try expect(UInt8(ascii: "\""), .value)
        let start = position
        guard let base = bytes.baseAddress else { throw failure(.unterminatedString) }
        var searchFrom = start
        while searchFrom < bytes.count {
            guard let found = memchr(base + searchFrom, Int32(UInt8(ascii: "\"")), bytes.count - searchFrom) else {
                break
            }
            let quote = base.distance(to: UnsafeRawPointer(found))
            // The quote closes the string unless an odd number of backslashes precede it.
            var backslashes = 0
            while quote - backslashes - 1 >= start, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            if backslashes % 2 == 0 {
                position = quote + 1
                let escaped = memchr(base + start, Int32(UInt8(ascii: "\\")), quote - start) != nil
                return (start..<quote, escaped)
            }
            searchFrom = quote + 1
        }
        position = bytes.count
        throw failure(.unterminatedString)
    }

    // MARK: - Numbers

    /// Checks a number's syntax (the parser at its first byte); returns its range and whether it is written without
    /// a fraction or an exponent.
    package mutating func numberRange() throws(JSONSyntaxError) -> (range: Range<Int>, isInteger: Bool) {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw failure(.invalidNumber(.integer), at: start) }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let byte = peek(), isDigit(byte) else { throw failure(.invalidNumber(.fraction)) }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let byte = peek(), isDigit(byte) else { throw failure(.invalidNumber(.exponent)) }
            skipDigits()
        }
        return (start..<position, isInteger)
    }

    private mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    // MARK: - Skipping

    /// Skips one value at nesting `depth` without building it, checking its structure (strings as
    /// ``skipString()`` does).
    package mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        guard let byte = peek() else { throw failure(.unexpectedEnd(.value)) }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try checkDepth(depth)
            let isObject = byte == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            position += 1
            skipWhitespace()
            if peek() == close {
                position += 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    guard peek() == UInt8(ascii: "\"") else { throw unexpected(.memberName) }
                    try skipString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"), .colon)
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(close, isObject ? .commaOrObjectEnd : .commaOrArrayEnd)
                return
            }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
        case UInt8(ascii: "f"):
            try expectLiteral("false")
        case UInt8(ascii: "n"):
            try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try numberRange()
        default:
            throw failure(.unexpectedByte(byte, .value))
        }
    }
}
