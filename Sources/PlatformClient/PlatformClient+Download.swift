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
        let queryString = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let headers = [(name: "Accept", value: "application/json")] + (try await identityHeaders())
        let signed = try await transport.sign(method: "GET", path: path, query: queryString, body: [], headers: headers)
        let scheme = endpoint.scheme?.lowercased() ?? "http"
        let host = signed.first { $0.name == "Host" }?.value ?? ""
        var request = HTTPClientRequest(url: "\(scheme)://\(host)\(path)" + (queryString.isEmpty ? "" : "?" + queryString))
        request.method = .GET
        for header in signed { request.headers.add(name: header.name, value: header.value) }
        request.headers.add(name: "User-Agent", value: transport.clientOptions.userAgent)
        let response = try await transport.client.execute(request, deadline: .distantFuture)
        guard (200..<300).contains(response.status.code) else { throw try await Publisher.refusal(response) }
        for try await chunk in response.body { try await body(Array(chunk.readableBytesView)) }
    }
}
