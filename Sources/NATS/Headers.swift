/// The headers of a NATS message: an ordered list of name/value fields, plus the status line the server
/// puts on control messages (for example `503` no responders, `404`/`408` for pull requests).
///
/// Names keep their case. Lookups try the exact name first and then a case-insensitive match, because
/// NATS servers compare header names byte for byte but people write them in varying case.
public struct Headers: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header field.
    public struct Field: Sendable, Hashable {
        /// The field name, as sent.
        public var name: String
        /// The field value, as sent (leading spaces trimmed).
        public var value: String

        /// Creates a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields, in wire order.
    public private(set) var fields: [Field] = []
    /// The status code on the `NATS/1.0` line of a server-generated message, if any.
    public var status: Int?
    /// The text after the status code, if any (for example `No Messages`).
    public var statusDescription: String?

    /// Creates empty headers.
    public init() {}

    /// Creates headers from name/value pairs, in order.
    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name: name, value: value) }
    }

    /// Whether there are neither fields nor a status.
    public var isEmpty: Bool { fields.isEmpty && status == nil }

    /// The first value of a field, or `nil`. Setting replaces every value of that name (or removes them
    /// when `nil`).
    public subscript(name: String) -> String? {
        get {
            if let exact = fields.first(where: { $0.name == name }) { return exact.value }
            let lowered = name.lowercased()
            return fields.first(where: { $0.name.lowercased() == lowered })?.value
        }
        set {
            let lowered = name.lowercased()
            fields.removeAll { $0.name.lowercased() == lowered }
            if let newValue { fields.append(Field(name: name, value: newValue)) }
        }
    }

    /// Every value of a field, in order.
    public func values(for name: String) -> [String] {
        let lowered = name.lowercased()
        return fields.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// Adds a field after the existing ones.
    public mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

extension Headers {
    private static let versionLine: [UInt8] = Array("NATS/1.0".utf8)

    /// The header block as sent in `HPUB`: `NATS/1.0\r\n`, one `Name: Value\r\n` per field, `\r\n`.
    ///
    /// - Throws: ``NATSError/Code/invalidArgument`` when a name is empty or holds a colon, space or
    ///   control character, or a value holds CR or LF (either would let a header forge protocol lines).
    func encoded() throws -> [UInt8] {
        var bytes = Self.versionLine
        bytes.append(contentsOf: [13, 10])
        for field in fields {
            let name = Array(field.name.utf8)
            guard !name.isEmpty, name.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw NATSError.invalidArgument("invalid header name")
            }
            let value = Array(field.value.utf8)
            guard !value.contains(13), !value.contains(10) else {
                throw NATSError.invalidArgument("header value of \(field.name) holds CR or LF")
            }
            bytes.append(contentsOf: name)
            bytes.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: " ")])
            bytes.append(contentsOf: value)
            bytes.append(contentsOf: [13, 10])
        }
        bytes.append(contentsOf: [13, 10])
        return bytes
    }

    /// Parses a header block from an `HMSG` (the first `#header bytes` of its body).
    ///
    /// - Throws: ``NATSError/Code/protocolError`` when the block does not start with `NATS/1.0`, does not
    ///   end with an empty line, or holds a line without a colon.
    static func parse(_ block: ArraySlice<UInt8>) throws -> Headers {
        guard block.starts(with: versionLine) else { throw NATSError.protocolError("header block without NATS/1.0") }
        guard block.count >= versionLine.count + 4, block.suffix(4).elementsEqual([13, 10, 13, 10]) else {
            throw NATSError.protocolError("header block not terminated by an empty line")
        }
        var headers = Headers()
        var lines: [ArraySlice<UInt8>] = []
        var start = block.startIndex
        var index = block.startIndex
        let end = block.endIndex - 2  // the final CRLF of the empty line
        while index < end {
            if block[index] == 13 {
                guard index + 1 < block.endIndex, block[index + 1] == 10 else {
                    throw NATSError.protocolError("bare CR in header block")
                }
                lines.append(block[start..<index])
                index += 2
                start = index
            } else if block[index] == 10 {
                throw NATSError.protocolError("bare LF in header block")
            } else {
                index += 1
            }
        }
        guard let first = lines.first else { throw NATSError.protocolError("empty header block") }
        // Status line: "NATS/1.0", "NATS/1.0 503", "NATS/1.0 404 No Messages".
        let rest = first.dropFirst(versionLine.count)
        if !rest.isEmpty {
            guard rest.first == 32 || rest.first == 9 else { throw NATSError.protocolError("bad header version line") }
            let text = String(decoding: rest, as: UTF8.self).trimmingASCIISpaces()
            if !text.isEmpty {
                let statusText = text.prefix(while: { $0 != " " && $0 != "\t" })
                guard statusText.count == 3, let status = Int(statusText) else {
                    throw NATSError.protocolError("bad status in header version line")
                }
                headers.status = status
                let description = String(text.dropFirst(statusText.count)).trimmingASCIISpaces()
                headers.statusDescription = description.isEmpty ? nil : description
            }
        }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw NATSError.protocolError("header line without a name")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIISpaces()
            headers.append(name: name, value: value)
        }
        return headers
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
