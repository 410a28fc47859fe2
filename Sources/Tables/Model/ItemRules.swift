import Foundation
public import WireShapes

/// DynamoDB's rules on attribute values and items, and its item size.
///
/// Numbers must be valid (``NumberEncoding``), sets non-empty without duplicates, documents nested at most 32 levels,
/// and an item at most 400 KB, counted as DynamoDB counts: the UTF-8 bytes of each attribute name plus its value's
/// size (a string's UTF-8 bytes, a binary's bytes, a number's significant digits halved plus one, one byte for a
/// boolean or null, three bytes plus one per element and the elements' sizes for lists and maps).
public enum ItemRules {
    /// 400 KB, DynamoDB's largest item.
    public static let maximumItemSize = 400 * 1024
    public static let maximumDepth = 32
    /// The largest partition key value (2048 bytes) and sort key value (1024 bytes).
    public static let maximumPartitionKeySize = 2048
    public static let maximumSortKeySize = 1024

    /// Checks every attribute of `item` and returns its size in bytes.
    ///
    /// - Throws: ``TableError`` `ValidationException` for an invalid value or an item over 400 KB.
    public static func validate(_ item: DynamoDBItem) throws(TableError) -> Int {
        var size = 0
        for (name, value) in item {
            guard !name.isEmpty else { throw .invalidParameter("An attribute name may not be empty") }
            size += name.utf8.count + (try validate(value, depth: 1))
        }
        guard size <= maximumItemSize else {
            throw .validation("Item size has exceeded the maximum allowed size")
        }
        return size
    }

    /// Checks expression attribute values (any valid value, no size limit but the request's).
    static func validateValues(_ values: DynamoDBItem) throws(TableError) {
        for value in values.values { _ = try validate(value, depth: 1) }
    }

    /// The size of a valid value; throws for an invalid one.
    static func validate(_ value: DynamoDBAttributeValue, depth: Int) throws(TableError) -> Int {
        guard depth <= maximumDepth else {
            throw .invalidParameter("Nesting Levels have exceeded supported limits")
        }
        switch value {
        case .string(let text): return text.utf8.count
        case .binary(let bytes): return bytes.count
        case .bool, .null: return 1
        case .number(let text): return try numberSize(text)
        case .stringSet(let texts):
            try requireSet(texts.map { Array($0.utf8) }, kind: "SS")
            return texts.reduce(0) { $0 + $1.utf8.count }
        case .binarySet(let values):
            try requireSet(values.map { Array($0) }, kind: "BS")
            return values.reduce(0) { $0 + $1.count }
        case .numberSet(let texts):
            var encoded: [[UInt8]] = []
            var size = 0
            for text in texts {
                size += try numberSize(text)
                encoded.append(NumberEncoding.encode(text)!)
            }
            try requireSet(encoded, kind: "NS")
            return size
        case .list(let elements):
            var size = 3
            for element in elements { size += 1 + (try validate(element, depth: depth + 1)) }
            return size
        case .map(let members):
            var size = 3
            for (name, member) in members {
                size += 1 + name.utf8.count + (try validate(member, depth: depth + 1))
            }
            return size
        }
    }

    static func numberSize(_ text: String) throws(TableError) -> Int {
        let encoded: [UInt8]
        do {
            encoded = try NumberEncoding.parse(text)
        } catch {
            throw error.error
        }
        // Sign and exponent bytes (and a negative number's end mark) are not digits.
        let digits = max(encoded.count - (encoded.first == 1 ? 3 : 2), 0)
        return (digits + 1) / 2 + 1
    }

    static func requireSet(_ elements: [[UInt8]], kind: String) throws(TableError) {
        guard !elements.isEmpty else { throw .invalidParameter("An \(kind) may not be empty") }
        guard Set(elements).count == elements.count else {
            throw .validation(
                "One or more parameter values were invalid: Input collection of \(kind) contains duplicates"
            )
        }
    }
}

extension DynamoDBAttributeValue {
    /// Whether two values are the same in DynamoDB's sense: strings by their UTF-8 bytes (not Unicode canonical
    /// equivalence, as Swift's `==` would), numbers by value, sets as sets, lists and maps member by member.
    func isSame(as other: DynamoDBAttributeValue) -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.number(let a), .number(let b)): return NumberEncoding.encode(a) == NumberEncoding.encode(b)
        case (.binary(let a), .binary(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.stringSet(let a), .stringSet(let b)):
            return Set(a.map { Array($0.utf8) }) == Set(b.map { Array($0.utf8) })
        case (.numberSet(let a), .numberSet(let b)):
            return Set(a.compactMap(NumberEncoding.encode)) == Set(b.compactMap(NumberEncoding.encode))
        case (.binarySet(let a), .binarySet(let b)): return Set(a) == Set(b)
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSame(as: $1) }
        case (.map(let a), .map(let b)):
            return a.count == b.count && a.allSatisfy { name, value in b[name].map(value.isSame(as:)) ?? false }
        default: return false
        }
    }

    /// The bytes DynamoDB orders `S`, `N` and `B` values by (UTF-8, ``NumberEncoding``, raw), tagged by type; `nil`
    /// for the other types, which have no order.
    var orderedBytes: (type: KeyType, bytes: [UInt8])? {
        switch self {
        case .string(let text): (.string, Array(text.utf8))
        case .number(let text): NumberEncoding.encode(text).map { (.number, $0) }
        case .binary(let bytes): (.binary, Array(bytes))
        default: nil
        }
    }
}
