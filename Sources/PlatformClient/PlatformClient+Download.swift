import AsyncHTTPClient
import Foundation
import KMS
import NIOCore
import NIOHTTP1
public import WireShapes

extension PlatformClient {
    /// A `GET` of a declared route whose answer is streamed as it arrives, with no size limit (an audit export can be
    /// many gigabytes): `body` gets each chunk. One attempt, no overall deadline (the connection's read timeout
    /// still applies).
    ///
    /// - Throws: ``PlatformError`` for an error answer, ``KMS/ClientError`` for transport failures, what `body`
    ///   throws.
    public func download(
        _ route: PlatformRoute,
        _ parameters: [String] = [],
        query: [(String, String)] = [],
        into body: ([UInt8]) async throws -> Void
    ) async throws {
        let path = base + "/v1/" + Self.path(route, parameters).joined(separator: "/")
        let queryString = Self.queryString(query)
        let request = try await transport.streamingRequest(
            method: "GET",
            path: path,
            query: queryString,
            headers: [(name: "Accept", value: "application/json")] + (try await identityHeaders()),
            bodyFollows: false
        )
        let response = try await transport.client.execute(request, deadline: .distantFuture)
        guard (200..<300).contains(response.status.code) else { throw try await Publisher.refusal(response) }
        for try await chunk in response.body { try await body(Array(chunk.readableBytesView)) }
    }
}
