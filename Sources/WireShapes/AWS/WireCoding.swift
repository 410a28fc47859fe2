public import Foundation

/// A string-valued wire enumeration of the KMS API (`KeyState`, `KeySpec`, …) that stays open to values a newer
/// service returns: an "unbounded enumeration" with static members for the values the service model lists.
public protocol WireEnumeration: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension WireEnumeration {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }
}

/// The JSON conventions of the AWS JSON 1.1 protocol, shared by the client and by servers that speak it.
///
/// Blobs (`Data`) are base64 strings and timestamps (`Date`) are seconds since 1970 as JSON numbers, per
/// botocore's `json` protocol serializer. Members that are `nil` are left out.
public enum AWSJSON {
    /// An encoder for request and response shapes.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dataEncodingStrategy = .base64
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A decoder for request and response shapes.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dataDecodingStrategy = .base64
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }

    /// The content type of the JSON 1.1 protocol.
    public static let contentType = "application/x-amz-json-1.1"
}
