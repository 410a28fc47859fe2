/// A JSON value (RFC 8259) that keeps what it was given: object members in their order, numbers as written.
///
/// The one JSON value type of the package: ``JSONParser`` produces it for every caller (envelopes, request bodies,
/// policies, audit records). It is `public`, unlike the rest of this module, because the SealedEvents and AuditTrail
/// products re-export it to their users as `SealedEvents.JSONValue` and `AuditTrail.JSONValue` (`public typealias`es
/// of this one type); `SealedSupport` itself is no product, so nothing else of it becomes API. `JSONNumber` and
/// `JSONObject` are public for the same reason. (The audit trail keeps record members in a canonical form on top of
/// it: see `AuditTrail.CanonicalJSON`.)
///
/// Equality is structural and exact: strings compare by their UTF-8 bytes (not by Unicode canonical
/// equivalence), numbers by their literal spelling (`1.0` ≠ `1`), objects member by member in order. Parsing
/// and serializing a value therefore round-trips it exactly, which is what field-level sealing relies on to
/// restore an event's data as the producer wrote it.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a.hasSameUTF8(as: b)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value):
            hasher.combine(1)
            hasher.combine(value)
        case .number(let value):
            hasher.combine(2)
            hasher.combine(value)
        case .string(let value):
            hasher.combine(3)
            for byte in value.utf8 { hasher.combine(byte) }
        case .array(let value):
            hasher.combine(4)
            hasher.combine(value)
        case .object(let value):
            hasher.combine(5)
            hasher.combine(value)
        }
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The member `key` of an object; `nil` for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The number, if this is a number.
    public var numberValue: JSONNumber? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The Boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type's name, for error messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a Boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON number kept as its literal text, so that no number changes on a round trip.
///
/// Any number RFC 8259 allows is accepted, including ones no `Double` holds exactly (`0.1`, `1e400`,
/// `123456789012345678901234567890`); the accessors convert on demand. Two numbers are equal when they are
/// spelled alike: `1.0` and `1` are different values here, as they are different texts.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as written, e.g. `-1.50e+3`.
    public let literal: String

    /// A number from its JSON spelling, or `nil` when `literal` is not an RFC 8259 number.
    package init?(checking literal: String) {
        let bytes = Array(literal.utf8)
        guard !bytes.isEmpty, Self.scan(bytes, from: 0) == bytes.count else { return nil }
        self.literal = literal
    }

    package init(validatedLiteral: String) { self.literal = validatedLiteral }

    /// An integer.
    public init<I: BinaryInteger>(_ value: I) { self.literal = String(value) }

    /// A finite `Double`, written in Swift's shortest round-tripping form (`1.0`, `1e-05`); `nil` for infinities
    /// and NaN, which JSON cannot express.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.literal = "\(value)"
    }

    public var description: String { literal }

    /// The nearest `Double`, or `nil` when the number is beyond `Double`'s range (`1e400`).
    public var doubleValue: Double? {
        guard let value = Double(literal), value.isFinite else { return nil }
        return value
    }

    /// The value as an `Int64` when the literal is an integer (no fraction, no exponent) that fits.
    public var int64Value: Int64? { Int64(literal) }

    /// Scans one RFC 8259 number starting at `start`; returns the index after it, or `nil`.
    package static func scan(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        func digit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(index) else { return nil }
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digit(index) else { return nil }
            while digit(index) { index += 1 }
        }
        return index
    }
}

/// A JSON object whose members keep their order.
///
/// Keys compare by their UTF-8 bytes, as RFC 6901 asks of JSON Pointer. Setting an existing key replaces its
/// value in place; setting a new key appends it. A parsed object never holds a key twice (the parser rejects
/// duplicate keys).
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One member.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }

        public static func == (lhs: Member, rhs: Member) -> Bool {
            lhs.key.hasSameUTF8(as: rhs.key) && lhs.value == rhs.value
        }

        public func hash(into hasher: inout Hasher) {
            for byte in key.utf8 { hasher.combine(byte) }
            hasher.combine(0xFF as UInt8)
            hasher.combine(value)
        }
    }

    /// The members in order.
    public private(set) var members: [Member]

    /// An empty object.
    public init() { members = [] }

    /// An object of these members, in order; a later duplicate key replaces the earlier value.
    public init(_ members: some Sequence<Member>) {
        self.members = []
        for member in members { self[member.key] = member.value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { Member(key: $0.0, value: $0.1) })
    }

    package init(uncheckedMembers: [Member]) { self.members = uncheckedMembers }

    /// The number of members.
    public var count: Int { members.count }
    /// Whether there are no members.
    public var isEmpty: Bool { members.isEmpty }
    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// The position of `key`, comparing UTF-8 bytes.
    public func index(forKey key: String) -> Int? {
        members.firstIndex { $0.key.hasSameUTF8(as: key) }
    }

    /// The value of `key`; setting `nil` removes the member, setting a value replaces it in place or appends it.
    public subscript(key: String) -> JSONValue? {
        get { index(forKey: key).map { members[$0].value } }
        set {
            let index = index(forKey: key)
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append(Member(key: key, value: value))
            case (nil, nil): break
            }
        }
    }

    /// Replaces the value of the member at `position` (an index from ``index(forKey:)``).
    package mutating func setValue(_ value: JSONValue, atPosition position: Int) { members[position].value = value }

    /// Removes `key` and returns its value, if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let index = index(forKey: key) else { return nil }
        return members.remove(at: index).value
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    /// A finite float literal; an infinite one becomes `null`.
    public init(floatLiteral value: Double) { self = JSONNumber(value).map(JSONValue.number) ?? .null }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
