package import Foundation
package import SealedSupport

/// A shape the byte-level JSON 1.1 coder reads from the package's one JSON value, as `JSONDecoder` with
/// ``AWSJSON/decoder()`` reads it: same values, same errors (kind and coding path).
package protocol AWSJSONDecodable {
    init(awsJSON reader: AWSJSONReader) throws(AWSJSONDecodingError)
}

/// A shape the byte-level JSON 1.1 coder writes, byte for byte as `JSONEncoder` with ``AWSJSON/encoder()`` writes it.
package protocol AWSJSONEncodable {
    /// Writes the members that are not `nil`, in the byte order of their names (`.sortedKeys`).
    func encode(to writer: inout AWSJSONWriter)
}

extension AWSJSONEncodable {
    /// The shape as JSON 1.1 text.
    package func awsJSON() -> [UInt8] {
        var writer = AWSJSONWriter()
        encode(to: &writer)
        return writer.finish()
    }
}

/// Why a JSON value is not of a shape: the error `JSONDecoder` reports for it, reduced to what callers use.
package struct AWSJSONDecodingError: Error, Hashable {
    package enum Kind: Sendable, Hashable {
        /// A required member is missing or `null` (`keyNotFound`, `valueNotFound`).
        case missing
        /// A value of the wrong JSON type (`typeMismatch`).
        case wrongType
        /// A value of the right type that does not convert: a blob that is not base64 (`dataCorrupted`). A number
        /// that is no integer of the member's type is `dataCorrupted` with an empty path, as Foundation reports it.
        case unreadable
    }

    package var kind: Kind
    /// The coding path as `DecodingError` spells it: member names, map keys, `Index 1` for array elements.
    package var path: [String]

    package init(_ kind: Kind, path: [String]) {
        self.kind = kind
        self.path = path
    }

    /// The same reduction of Foundation's error, for the shapes the coder does not read.
    package init?(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(.missing, path: (context.codingPath + [key]).map(\.stringValue))
        case .valueNotFound(_, let context): self.init(.missing, path: context.codingPath.map(\.stringValue))
        case .typeMismatch(_, let context): self.init(.wrongType, path: context.codingPath.map(\.stringValue))
        case .dataCorrupted(let context): self.init(.unreadable, path: context.codingPath.map(\.stringValue))
        @unknown default: return nil
        }
    }
}

/// Reads the members of one JSON object with `JSONDecoder`'s rules for the JSON 1.1 shapes.
///
/// A member is found by Swift string equality (canonical equivalence: `\u212AeyId`, with a Kelvin sign, is `KeyId`)
/// and the first of equivalent names wins, as in Foundation; unknown members are ignored; `null` is an absent member.
package struct AWSJSONReader {
    let members: [JSONObject.Member]

    /// A reader of `value`, which must be an object: `null` is `valueNotFound` at the top, another value
    /// `typeMismatch`, as Foundation says.
    package init(_ value: JSONValue) throws(AWSJSONDecodingError) {
        switch value {
        case .object(let object): members = object.members
        case .null: throw AWSJSONDecodingError(.missing, path: [])
        default: throw AWSJSONDecodingError(.wrongType, path: [])
        }
    }

    /// The value of `key`, `nil` when it is missing or `null`.
    private func value(_ key: String) -> JSONValue? {
        for member in members where member.key == key {
            if case .null = member.value { return nil }
            return member.value
        }
        return nil
    }

    /// A required member: what `read` finds under `key`, or `missing` when the member is absent or `null`.
    package func required<T>(
        _ key: String,
        _ read: (String) throws(AWSJSONDecodingError) -> T?
    )
        throws(AWSJSONDecodingError) -> T
    {
        guard let value = try read(key) else { throw AWSJSONDecodingError(.missing, path: [key]) }
        return value
    }

    /// The members below are optional: `nil` when absent or `null`, `typeMismatch` for another JSON type.
    package func string(_ key: String) throws(AWSJSONDecodingError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw AWSJSONDecodingError(.wrongType, path: [key]) }
        return text
    }

    /// A base64 blob: the canonical encoding fast, anything else `Data(base64Encoded:)` accepts as it does.
    package func blob(_ key: String) throws(AWSJSONDecodingError) -> Data? {
        guard let text = try string(key) else { return nil }
        if let bytes = try? Base64.decode(text) { return Data(bytes) }
        guard let data = Data(base64Encoded: text) else { throw AWSJSONDecodingError(.unreadable, path: [key]) }
        return data
    }

    package func bool(_ key: String) throws(AWSJSONDecodingError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw AWSJSONDecodingError(.wrongType, path: [key]) }
        return flag
    }

    /// An `Int`, converted as `JSONDecoder` converts (its `_slowpath_unwrapFixedWidthInteger`): an integer literal
    /// that fits; else the literal's `Double`, which must be an integer that fits (`1e2`, `1.0`, `1e-400`) and is the
    /// value below 2^53; from 2^53 up, the literal read as a Foundation `Decimal` (``decimalInteger(_:)``).
    package func int(_ key: String) throws(AWSJSONDecodingError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else { throw AWSJSONDecodingError(.wrongType, path: [key]) }
        if let integer = Int(number.literal) { return integer }
        guard let double = Double(number.literal), let integer = Int(exactly: double) else {
            throw AWSJSONDecodingError(.unreadable, path: [])
        }
        if double.magnitude < 0x1p53 { return integer }
        guard let exact = Self.decimalInteger(number.literal) else { throw AWSJSONDecodingError(.unreadable, path: []) }
        return exact
    }

    /// The integer Foundation takes from a number literal read as a `Decimal`: the significant digits that fit a
    /// 128-bit mantissa (later fraction digits dropped, not rounded), trailing zeros moved into the exponent; the
    /// mantissa must fit 64 bits, and the exponent then scales it, truncating toward zero. `nil` where Foundation
    /// refuses (`9223372036854775295.9`: the mantissa overflows). Only called from 2^53 up, where a `Double`'s
    /// spacing is 2 or more and the `Double` is not the value.
    static func decimalInteger(_ literal: String) -> Int? {
        var mantissa: UInt128 = 0
        var exponent = 0
        var isNegative = false
        var inFraction = false
        var bytes = literal.utf8[...]
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "-"): isNegative = true
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard let scale = Int(Substring(bytes)) else { return nil }
                exponent += scale
                bytes = bytes[bytes.endIndex...]
            default:
                let (times10, overflow) = mantissa.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times10.addingReportingOverflow(UInt128(byte &- UInt8(ascii: "0")))
                if overflow || carry {
                    if !inFraction { exponent += 1 }
                } else {
                    mantissa = sum
                    if inFraction { exponent -= 1 }
                }
            }
        }
        while mantissa != 0, mantissa % 10 == 0 {
            mantissa /= 10
            exponent += 1
        }
        guard var magnitude = UInt64(exactly: mantissa) else { return nil }
        for _ in 0..<max(0, -exponent) { magnitude /= 10 }
        for _ in 0..<max(0, exponent) {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            magnitude = product
        }
        guard let integer = Int(exactly: magnitude) else { return nil }
        return isNegative ? -integer : integer
    }

    package func enumeration<E: WireEnumeration>(_ key: String) throws(AWSJSONDecodingError) -> E? {
        try string(key).map(E.init(rawValue:))
    }

    package func strings(_ key: String) throws(AWSJSONDecodingError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw AWSJSONDecodingError(.wrongType, path: [key]) }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            switch element {
            case .string(let text): strings.append(text)
            case .null: throw AWSJSONDecodingError(.missing, path: [key, "Index \(index)"])
            default: throw AWSJSONDecodingError(.wrongType, path: [key, "Index \(index)"])
            }
        }
        return strings
    }

    /// A string map; of equivalent keys the first wins and the others are not read, as in Foundation. Of several
    /// bad entries this reports the first in the text, where Foundation reports one in the order of a `Dictionary`
    /// (seeded per process): the same kind of error for the same map, deterministically.
    package func stringMap(_ key: String) throws(AWSJSONDecodingError) -> [String: String]? {
        guard let value = value(key) else { return nil }
        guard case .object(let object) = value else { throw AWSJSONDecodingError(.wrongType, path: [key]) }
        var map: [String: String] = [:]
        for member in object where map[member.key] == nil {
            switch member.value {
            case .string(let text): map[member.key] = text
            case .null: throw AWSJSONDecodingError(.missing, path: [key, member.key])
            default: throw AWSJSONDecodingError(.wrongType, path: [key, member.key])
            }
        }
        return map
    }
}

/// Writes one JSON object as `JSONEncoder` with ``AWSJSON/encoder()`` does: compact, `nil` members left out, strings
/// escaped as ``SealedSupport/JSONWriter`` escapes them, blobs in base64, map keys in the byte order of their UTF-8.
/// Shapes call it with their member names in that order.
package struct AWSJSONWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    package init() { bytes.reserveCapacity(256) }

    private mutating func name(_ key: StaticString) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    package mutating func member(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        name(key)
        JSONWriter.writeString(value, to: &bytes)
    }

    package mutating func member(_ key: StaticString, _ value: Data?) {
        guard let value else { return }
        name(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: Base64.encode(value).utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func member(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    package mutating func member(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    package mutating func member<E: WireEnumeration>(_ key: StaticString, _ value: E?) {
        member(key, value?.rawValue)
    }

    package mutating func member(_ key: StaticString, _ value: [String]?) {
        guard let value else { return }
        name(key)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in value.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(element, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    package mutating func member(_ key: StaticString, _ value: [String: String]?) {
        guard let value else { return }
        name(key)
        bytes.append(UInt8(ascii: "{"))
        let sorted = value.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (index, entry) in sorted.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(entry.key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONWriter.writeString(entry.value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// The object's text.
    package mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
