public import Foundation
import SealedSupport

/// The JSON conventions of the platform's `/v1` API, shared by the server and its clients: PascalCase members as
/// AWS APIs spell them, dates in ISO 8601, members that are `nil` left out, errors as `{"__type", "message"}`.
public enum PlatformJSON {
    /// The content type of `/v1` requests and answers.
    public static let contentType = "application/json"

    /// An encoder for `/v1` shapes: sorted members, slashes unescaped, ISO 8601 dates.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// A decoder for `/v1` shapes: ISO 8601 dates.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// An error the platform's `/v1` API answered: its `__type` code, message and HTTP status. Errors compare by ``code``
/// alone.
public struct PlatformError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var statusCode: Int

    public init(code: String, message: String, statusCode: Int) {
        self.code = code
        self.message = message
        self.statusCode = statusCode
    }

    public var description: String { "\(code): \(message)" }
}

extension PlatformError: CodedError {}
