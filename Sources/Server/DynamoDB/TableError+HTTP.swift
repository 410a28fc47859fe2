import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore
public import Tables
import WireShapes

/// Table errors become DynamoDB's JSON 1.0 error responses here, at the edge: HTTP 400 (500 for
/// `InternalServerError`) with `{"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message": …}` and, for a
/// cancelled transaction, its `CancellationReasons`, as botocore parses them.
extension TableError: HTTPResponseError {
    public var status: HTTPResponse.Status { code == .internalServerError ? .internalServerError : .badRequest }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body =
            (try? AWSJSON.encoder().encode(shape))
            ?? Data(#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: DynamoDBJSON.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

extension TableError.Code {
    static let serialization: Self = "SerializationException"
    static let unknownOperation: Self = "UnknownOperationException"
}

extension TableError {
    static func serialization(_ message: String) -> TableError { TableError(.serialization, message) }
}
