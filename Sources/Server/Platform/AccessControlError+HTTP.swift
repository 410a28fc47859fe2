public import AccessControl
import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore
import WireShapes

/// Identity, catalog and access-request errors on the `/v1` API: the JSON error shape of the KMS endpoint,
/// `{"__type": "<code>", "message": "<message>"}`, so one client reads both.
extension AccessControlError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case .noSuchEntity, .accessKeyNotFound: .notFound
        case .entityAlreadyExists, .limitExceeded, .invalidState, .accessKeyExists, .concurrentModification:
            .conflict
        case .accessDenied: .forbidden
        default: .badRequest
        }
    }

    public func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        PlatformJSON.error(code: code.rawValue, message: message, status: status)
    }
}

/// The `/v1` API's answers and request bodies on Hummingbird (the conventions are ``WireShapes/PlatformJSON``'s).
extension PlatformJSON {
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder().encode(value)))
        )
    }

    static func error(code: String, message: String, status: HTTPResponse.Status) -> Response {
        let body = (try? encoder().encode(["__type": code, "message": message])) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    /// Decodes a request body; malformed JSON or a wrong member is `SerializationException` (400), a missing body
    /// of an operation that needs one, or a member named twice at any depth (``StrictJSON``), `ValidationException`.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: .max)
        if let problem = StrictJSON.problem(in: buffer) {
            throw PlatformRequestError(
                code: problem.isDuplicateMember ? "ValidationException" : "SerializationException",
                message: "The request body is not valid JSON: \(problem.reason)."
            )
        }
        let data = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw PlatformRequestError(code: "ValidationException", message: "\(key.stringValue) is required.")
        } catch {
            throw PlatformRequestError(
                code: "SerializationException",
                message: "The request body is not valid JSON for this operation."
            )
        }
    }
}

/// A malformed `/v1` request.
struct PlatformRequestError: Error, HTTPResponseError {
    var code: String
    var message: String
    var status: HTTPResponse.Status { .badRequest }

    func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        PlatformJSON.error(code: code, message: message, status: status)
    }
}
