public import AccessControl
import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore
public import Subjects
package import WireShapes

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

/// A subject whose erasure fence stands: `410 Gone`. Not `403` (the caller is allowed; a retry with other
/// credentials cannot help), not `404` (the subject's key existed and was destroyed on purpose), not `409` (nothing
/// the caller can change makes it succeed, short of the owning team lifting the fence): the key is gone, and stays
/// gone.
extension SubjectError: HTTPResponseError {
    public var status: HTTPResponse.Status { code == .subjectErased ? .gone : .badRequest }

    public func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        PlatformJSON.error(code: code.rawValue, message: message, status: status)
    }
}

/// The `/v1` API's answers on Hummingbird (the conventions are ``WireShapes/PlatformJSON``'s; request bodies are
/// read by ``PlatformBody``).
extension PlatformJSON {
    package static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
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
