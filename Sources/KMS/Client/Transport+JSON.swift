import Foundation

extension Transport {
    /// One call of an AWS JSON protocol (1.0 for DynamoDB, 1.1 for KMS): `POST` of `body` with the operation's
    /// `X-Amz-Target` and content type, retried as the options say; a 2xx answer is decoded as `Response` (an empty
    /// body as `{}`), any other is handed to `error`, whose result is thrown.
    ///
    /// - Throws: What `error` returns for a failed answer; ``ClientError`` `malformedResponse` when a successful
    ///   answer is not JSON of the expected shape; the transport's own ``ClientError``s.
    func sendJSON<Response: Decodable>(
        operation: String,
        target: String,
        contentType: String,
        body: [UInt8],
        as response: Response.Type,
        error: (RawResponse) -> any Error
    ) async throws -> Response {
        try await send(
            operation: operation,
            body: body,
            headers: [(name: "Content-Type", value: contentType), (name: "X-Amz-Target", value: target)]
        ) { answer in
            guard (200..<300).contains(answer.status) else { throw error(answer) }
            do {
                // Operations without output may answer with an empty body. `JSONDecoder` reads what any service
                // sends (a repeated member, UTF-16), which the strict parser would refuse.
                let bytes = answer.body.isEmpty ? Array("{}".utf8) : answer.body
                return try AWSJSON.decoder().decode(Response.self, from: Data(bytes))
            } catch {
                throw ClientError(
                    .malformedResponse,
                    "the \(operation) response (HTTP \(answer.status), \(answer.body.count) bytes) is not valid "
                        + "JSON of the expected shape: \(Self.describe(decodingError: error))"
                )
            }
        }
    }

    /// A decoding error in a few words: what is wrong, and where.
    static func describe(decodingError error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context): "data corrupted at \(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): "missing \(key.stringValue) at \(path(context))"
        case .typeMismatch(_, let context): "wrong type at \(path(context))"
        case .valueNotFound(_, let context): "null at \(path(context))"
        default: "\(type(of: error))"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "the top level" : path
    }
}
