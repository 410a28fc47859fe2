public import Foundation

/// One DynamoDB attribute value (`AttributeValue`): a JSON object with exactly one member naming its type.
///
/// `{"S": "text"}`, `{"N": "12.5"}` (numbers travel as strings), `{"B": "<base64>"}`, `{"BOOL": true}`,
/// `{"NULL": true}`, `{"M": {…}}`, `{"L": […]}` and the sets `SS`, `NS`, `BS`. Decoding refuses an object with no
/// member or more than one, and `NULL` other than `true`, as DynamoDB does.
public indirect enum DynamoDBAttributeValue: Codable, Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(String)
    case binary(Data)
    case bool(Bool)
    case null
    case map([String: DynamoDBAttributeValue])
    case list([DynamoDBAttributeValue])
    case stringSet([String])
    case numberSet([String])
    case binarySet([Data])

    /// The type descriptor: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS` or `BS`.
    public var typeName: String {
        switch self {
        case .string: "S"
        case .number: "N"
        case .binary: "B"
        case .bool: "BOOL"
        case .null: "NULL"
        case .map: "M"
        case .list: "L"
        case .stringSet: "SS"
        case .numberSet: "NS"
        case .binarySet: "BS"
        }
    }

    /// The string of an `S` value.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The bytes of a `B` value.
    public var binaryValue: Data? {
        if case .binary(let value) = self { value } else { nil }
    }

    /// The text of an `N` value.
    public var numberValue: String? {
        if case .number(let value) = self { value } else { nil }
    }

    /// Binary values are described by their length only: items hold wrapped keys.
    public var description: String {
        switch self {
        case .string(let value): "S(\(value))"
        case .number(let value): "N(\(value))"
        case .binary(let value): "B(<\(value.count) bytes>)"
        case .bool(let value): "BOOL(\(value))"
        case .null: "NULL"
        case .map(let value): "M(\(value.keys.sorted()))"
        case .list(let value): "L(\(value.count))"
        case .stringSet(let value): "SS(\(value.count))"
        case .numberSet(let value): "NS(\(value.count))"
        case .binarySet(let value): "BS(\(value.count))"
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case string = "S"
        case number = "N"
        case binary = "B"
        case bool = "BOOL"
        case null = "NULL"
        case map = "M"
        case list = "L"
        case stringSet = "SS"
        case numberSet = "NS"
        case binarySet = "BS"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let present = CodingKeys.allCases.filter { container.contains($0) }
        guard present.count == 1, let key = present.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "an attribute value has exactly one of S, N, B, BOOL, NULL, M, L, SS, NS, BS"
                )
            )
        }
        switch key {
        case .string: self = .string(try container.decode(String.self, forKey: key))
        case .number: self = .number(try container.decode(String.self, forKey: key))
        case .binary: self = .binary(try container.decode(Data.self, forKey: key))
        case .bool: self = .bool(try container.decode(Bool.self, forKey: key))
        case .null:
            guard try container.decode(Bool.self, forKey: key) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key,
                    in: container,
                    debugDescription: "NULL must be true"
                )
            }
            self = .null
        case .map: self = .map(try container.decode([String: DynamoDBAttributeValue].self, forKey: key))
        case .list: self = .list(try container.decode([DynamoDBAttributeValue].self, forKey: key))
        case .stringSet: self = .stringSet(try container.decode([String].self, forKey: key))
        case .numberSet: self = .numberSet(try container.decode([String].self, forKey: key))
        case .binarySet: self = .binarySet(try container.decode([Data].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .string(let value): try container.encode(value, forKey: .string)
        case .number(let value): try container.encode(value, forKey: .number)
        case .binary(let value): try container.encode(value, forKey: .binary)
        case .bool(let value): try container.encode(value, forKey: .bool)
        case .null: try container.encode(true, forKey: .null)
        case .map(let value): try container.encode(value, forKey: .map)
        case .list(let value): try container.encode(value, forKey: .list)
        case .stringSet(let value): try container.encode(value, forKey: .stringSet)
        case .numberSet(let value): try container.encode(value, forKey: .numberSet)
        case .binarySet(let value): try container.encode(value, forKey: .binarySet)
        }
    }
}

/// A DynamoDB item or key: attribute names to values.
public typealias DynamoDBItem = [String: DynamoDBAttributeValue]
