internal import SealedSupport

/// A JSON Pointer (RFC 6901): a path of reference tokens such as `/card/number` or `/items/0`.
///
/// In the text form `~` is written `~0` and `/` is written `~1`; ``tokens`` holds the unescaped tokens. The
/// empty pointer `""` names the whole document. An array index is `0` or a number without leading zeros; `-`
/// names the position after the last element (only ``JSONValue/setValue(_:at:)`` accepts it, to append).
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The unescaped reference tokens.
    public let tokens: [String]

    /// The root pointer `""`.
    public static let root = JSONPointer(tokens: [])

    /// A pointer from unescaped tokens.
    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses a pointer's text form.
    ///
    /// - Throws: ``SealedEventsError`` `invalidPointer` when the text neither is empty nor starts with `/`, or
    ///   holds a `~` not followed by `0` or `1`.
    public init(_ text: String) throws(SealedEventsError) {
        guard !text.isEmpty else {
            self.tokens = []
            return
        }
        guard text.hasPrefix("/") else {
            throw SealedEventsError(.invalidPointer, "a JSON Pointer must be empty or start with '/': \"\(text)\"")
        }
        var text = text
        let parsed = text.withUTF8 { bytes in Result { () throws(SealedEventsError) in try Self.tokens(of: bytes) } }
        let tokens = try parsed.get()
        self.tokens = tokens
    }

    /// The text form, with `~` and `/` escaped.
    /// The unescaped tokens of a pointer's text, which starts with `/`; a token without `~` is copied whole.
    private static func tokens(of bytes: UnsafeBufferPointer<UInt8>) throws(SealedEventsError) -> [String] {
        var tokens: [String] = []
        var start = 1
        while start <= bytes.count {
            var end = start
            var escaped = false
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") {
                if bytes[end] == UInt8(ascii: "~") { escaped = true }
                end += 1
            }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
            guard escaped else {
                tokens.append(String(decoding: raw, as: UTF8.self))
                start = end + 1
                continue
            }
            var token: [UInt8] = []
            token.reserveCapacity(raw.count)
            var iterator = raw.makeIterator()
            while let byte = iterator.next() {
                guard byte == UInt8(ascii: "~") else {
                    token.append(byte)
                    continue
                }
                switch iterator.next() {
                case UInt8(ascii: "0"): token.append(UInt8(ascii: "~"))
                case UInt8(ascii: "1"): token.append(UInt8(ascii: "/"))
                default:
                    let text = String(decoding: bytes, as: UTF8.self)
                    throw SealedEventsError(.invalidPointer, "'~' must be followed by 0 or 1 in \"\(text)\"")
                }
            }
            tokens.append(String(decoding: token, as: UTF8.self))
            start = end + 1
        }
        return tokens
    }

    /// The text form. Escaping works on Unicode scalars, not characters: a `/` or `~` followed by a combining mark is
    /// one `Character`, and would otherwise be written unescaped (found by the `json-pointer` fuzz target).
    public var description: String {
        var text = ""
        for token in tokens {
            text += "/"
            for scalar in token.unicodeScalars {
                switch scalar {
                case "~": text += "~0"
                case "/": text += "~1"
                default: text.unicodeScalars.append(scalar)
                }
            }
        }
        return text
    }

    /// Whether this is the root pointer.
    public var isRoot: Bool { tokens.isEmpty }

    /// Whether `self` names `other` or a value inside it (every pointer is a prefix of itself).
    public func isPrefix(of other: JSONPointer) -> Bool {
        tokens.count <= other.tokens.count
            && zip(tokens, other.tokens).allSatisfy { $0.hasSameUTF8(as: $1) }
    }

    /// A pointer one level deeper.
    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }

    public static func == (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        lhs.tokens.count == rhs.tokens.count && lhs.isPrefix(of: rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(tokens.count)
        for token in tokens {
            for byte in token.utf8 { hasher.combine(byte) }
            hasher.combine(0xFF as UInt8)
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try JSONPointer(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The array index a token names in an array of `count` elements; `count` for `-` when `allowEnd`.
    func arrayIndex(_ token: String, count: Int, allowEnd: Bool) throws(SealedEventsError) -> Int {
        if token == "-" {
            guard allowEnd else { throw notFound("'-' names no existing array element") }
            return count
        }
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ (0x30...0x39).contains($0) }), bytes == [0x30] || bytes[0] != 0x30
        else { throw SealedEventsError(.invalidPointer, "\"\(token)\" in \(self) is not an array index") }
        guard let index = Int(token), index < count || (allowEnd && index == count) else {
            throw notFound("array index \(token) is out of range")
        }
        return index
    }

    func notFound(_ detail: String) -> SealedEventsError {
        SealedEventsError(.pointerNotFound, "\(self) names no value: \(detail)")
    }
}

extension JSONValue {
    /// The value `pointer` names.
    ///
    /// - Throws: ``SealedEventsError`` `pointerNotFound` when a member or element is missing or a token steps
    ///   into a string, number, Boolean or null; `invalidPointer` when a token for an array is not an index.
    public func value(at pointer: JSONPointer) throws(SealedEventsError) -> JSONValue {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { throw pointer.notFound("no member \"\(token)\"") }
                current = next
            case .array(let elements):
                current = elements[try pointer.arrayIndex(token, count: elements.count, allowEnd: false)]
            default:
                throw pointer.notFound("\(current.typeName) has no members")
            }
        }
        return current
    }

    /// Sets the value `pointer` names: replaces an existing member or element in place, adds a new member at the
    /// end of its object, or appends to an array (index = count, or `-`). The root pointer replaces the document.
    ///
    /// - Throws: ``SealedEventsError`` `pointerNotFound` when the parent does not exist; `invalidPointer` for a
    ///   token that is not an index into an array.
    public mutating func setValue(_ value: JSONValue, at pointer: JSONPointer) throws(SealedEventsError) {
        try update(pointer, level: 0) { parent, token throws(SealedEventsError) in
            switch parent {
            case .object(var object):
                parent = .null  // release the storage so the mutation below does not copy it
                object[token] = value
                parent = .object(object)
            case .array(var elements):
                let index = try pointer.arrayIndex(token, count: elements.count, allowEnd: true)
                parent = .null
                if index == elements.count { elements.append(value) } else { elements[index] = value }
                parent = .array(elements)
            default:
                throw pointer.notFound("\(parent.typeName) has no members")
            }
        } root: { document in
            document = value
        }
    }

    /// Removes the member or element `pointer` names and returns it; array elements after it move up.
    ///
    /// - Throws: ``SealedEventsError`` `pointerNotFound` when there is no such value, `invalidPointer` for the
    ///   root pointer or a non-index array token.
    @discardableResult
    public mutating func removeValue(at pointer: JSONPointer) throws(SealedEventsError) -> JSONValue {
        var removed: JSONValue = .null
        try update(pointer, level: 0) { parent, token throws(SealedEventsError) in
            switch parent {
            case .object(var object):
                parent = .null
                guard let value = object.removeValue(forKey: token) else {
                    parent = .object(object)
                    throw pointer.notFound("no member \"\(token)\"")
                }
                removed = value
                parent = .object(object)
            case .array(var elements):
                let index = try pointer.arrayIndex(token, count: elements.count, allowEnd: false)
                parent = .null
                removed = elements.remove(at: index)
                parent = .array(elements)
            default:
                throw pointer.notFound("\(parent.typeName) has no members")
            }
        } root: { _ throws(SealedEventsError) in
            throw SealedEventsError(.invalidPointer, "the root pointer cannot be removed")
        }
        return removed
    }

    /// Walks to the parent of `pointer`'s last token and applies `body` to it in place.
    private mutating func update(
        _ pointer: JSONPointer,
        level: Int,
        body: (inout JSONValue, String) throws(SealedEventsError) -> Void,
        root: (inout JSONValue) throws(SealedEventsError) -> Void
    ) throws(SealedEventsError) {
        guard !pointer.tokens.isEmpty else {
            try root(&self)
            return
        }
        if level == pointer.tokens.count - 1 {
            try body(&self, pointer.tokens[level])
            return
        }
        let token = pointer.tokens[level]
        switch self {
        case .object(var object):
            guard let position = object.index(forKey: token) else {
                throw pointer.notFound("no member \"\(token)\"")
            }
            var child = object.members[position].value
            self = .null
            object.setValue(.null, atPosition: position)
            defer {
                object.setValue(child, atPosition: position)
                self = .object(object)
            }
            try child.update(pointer, level: level + 1, body: body, root: root)
        case .array(var elements):
            let index = try pointer.arrayIndex(token, count: elements.count, allowEnd: false)
            var child = elements[index]
            self = .null
            elements[index] = .null
            defer {
                elements[index] = child
                self = .array(elements)
            }
            try child.update(pointer, level: level + 1, body: body, root: root)
        default:
            throw pointer.notFound("\(typeName) has no members")
        }
    }
}
