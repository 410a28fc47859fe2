public import AsyncHTTPClient
public import Foundation
public import KMS
public import Logging
import SealedSupport
public import WireShapes

/// A client of the Sealed Events platform's REST API under `/v1` (identities, catalog, access requests): JSON
/// requests signed with SigV4 for the service `sealed`, with the retries, timeouts and limits of ``KMSClient``.
public struct PlatformClient: Sendable {
    let transport: Transport
    /// The path of the endpoint, without a trailing slash (usually empty).
    let base: String
    /// For a server in AWS mode: proves the caller's AWS identity on every request.
    public var callerIdentity: CallerIdentitySigner?

    public var endpoint: URL { transport.endpoint }

    public init(
        endpoint: URL,
        region: String,
        credentialProvider: any CredentialProvider,
        httpClient: HTTPClient? = nil,
        options: ClientOptions = ClientOptions(),
        logger: Logger? = nil
    ) throws(ClientError) {
        transport = try Transport(
            httpClient: httpClient ?? sharedHTTPClient,
            endpoint: endpoint,
            region: region,
            service: "sealed",
            credentialProvider: credentialProvider,
            options: options,
            logger: logger ?? .noop
        )
        let path = endpoint.path
        base = path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// Sends `method` to `/v1/<path>` (each path segment given unencoded) with an optional JSON body, and returns
    /// the JSON answer.
    ///
    /// - Throws: ``PlatformError`` for an error answer, ``ClientError`` for transport failures.
    public func call(
        _ method: String,
        _ segments: [String],
        query: [(String, String)] = [],
        body: [String: any Sendable]? = nil
    ) async throws -> [String: Any] {
        try await call(
            method,
            segments,
            query: query,
            json: body.map { Array(try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys])) }
        )
    }

    /// Sends `method` to `/v1/<path>` with a JSON body given as its exact bytes (events keep their member order and
    /// number literals), and returns the JSON answer.
    public func call(
        _ method: String,
        _ segments: [String],
        query: [(String, String)] = [],
        json body: [UInt8]?
    ) async throws -> [String: Any] {
        let data = try await send(method, segments, query: query, json: body)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ClientError(.malformedResponse, "the platform answered something other than a JSON object")
        }
        return object
    }

    /// Calls a declared route with `input` as its JSON body, and returns the typed answer.
    ///
    /// - Parameter parameters: the route's path parameters, in order (unencoded).
    /// - Throws: ``PlatformError`` for an error answer, ``ClientError`` for transport failures and answers that are
    ///   not the expected shape.
    public func send<Input: Encodable, Output: Decodable>(
        _ route: PlatformRoute,
        _ parameters: [String] = [],
        query: [(String, String)] = [],
        input: Input,
        as output: Output.Type = Output.self
    ) async throws -> PlatformAnswer<Output> {
        let body = Array(try PlatformJSON.encoder().encode(input))
        return try decode(await send(route.method, encoded: Self.path(route, parameters), query: query, json: body))
    }

    /// Calls a declared route without a body, and returns the typed answer.
    public func send<Output: Decodable>(
        _ route: PlatformRoute,
        _ parameters: [String] = [],
        query: [(String, String)] = [],
        as output: Output.Type = Output.self
    ) async throws -> PlatformAnswer<Output> {
        try decode(await send(route.method, encoded: Self.path(route, parameters), query: query, json: nil))
    }

    /// Calls a declared route with a JSON body given as its exact bytes, and returns the typed answer.
    public func send<Output: Decodable>(
        _ route: PlatformRoute,
        _ parameters: [String] = [],
        json body: [UInt8],
        as output: Output.Type = Output.self
    ) async throws -> PlatformAnswer<Output> {
        try decode(await send(route.method, encoded: Self.path(route, parameters), query: [], json: body))
    }

    /// Calls a declared route and returns the answer's bytes as they are.
    public func raw(
        _ route: PlatformRoute,
        _ parameters: [String] = [],
        query: [(String, String)] = []
    ) async throws -> Data {
        try await send(route.method, encoded: Self.path(route, parameters), query: query, json: nil)
    }

    /// A declared route's path segments, encoded: its parameters percent-encoded, its own segments as declared (they
    /// may hold a `:`, as `subjects:erase` and `events:stream` do, which the server's router matches as it is).
    static func path(_ route: PlatformRoute, _ parameters: [String]) -> [String] {
        zip(route.pattern, route.segments(parameters)).map { $0.hasPrefix(":") ? encode($1) : $1 }
    }

    private func decode<Output: Decodable>(_ json: Data) throws -> PlatformAnswer<Output> {
        do {
            return PlatformAnswer(output: try PlatformJSON.decoder().decode(Output.self, from: json), json: json)
        } catch {
            throw ClientError(.malformedResponse, "the platform answered something other than \(Output.self)")
        }
    }

    /// Sends `method` to `/v1/<path>` and returns the answer's bytes as they are (exports are verified byte for
    /// byte; event lists keep their exact JSON).
    public func raw(_ method: String, _ segments: [String], query: [(String, String)] = []) async throws -> Data {
        try await send(method, segments, query: query, json: nil)
    }

    private func send(
        _ method: String,
        _ segments: [String],
        query: [(String, String)],
        json body: [UInt8]?
    ) async throws -> Data {
        try await send(method, encoded: segments.map(Self.encode), query: query, json: body)
    }

    /// One signed request to `/v1/` and the `segments` (percent-encoded already); an error answer becomes a
    /// ``PlatformError`` with its `__type` and `message`.
    private func send(
        _ method: String,
        encoded segments: [String],
        query: [(String, String)],
        json body: [UInt8]?
    )
        async throws -> Data
    {
        let path = base + "/v1/" + segments.joined(separator: "/")
        let queryString = Self.queryString(query)
        var headers: [(name: String, value: String)] = [(name: "Accept", value: "application/json")]
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        headers += try await identityHeaders()
        return try await transport.send(
            operation: "\(method) \(segments.first ?? "")",
            method: method,
            path: path,
            query: queryString,
            body: body ?? [],
            headers: headers
        ) { response in
            let data = Data(response.body)
            guard (200..<300).contains(response.status) else {
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
                throw PlatformError(
                    code: object?["__type"] as? String ?? "HTTP\(response.status)",
                    message: object?["message"] as? String ?? String(decoding: data.prefix(200), as: UTF8.self),
                    statusCode: response.status
                )
            }
            return data
        }
    }

    /// ``WireShapes/SignedCallerIdentity/header`` when the server is in AWS mode; none otherwise.
    func identityHeaders() async throws -> [(name: String, value: String)] {
        guard let callerIdentity else { return [] }
        return [(name: SignedCallerIdentity.header, value: try await callerIdentity.header())]
    }

    /// The query string as sent and signed: each name and value percent-encoded, in the order given.
    static func queryString(_ query: [(String, String)]) -> String {
        query.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but SigV4's unreserved characters, so the path and query are canonical as sent.
    static func encode(_ text: String) -> String { PercentEncoding.encode(text) }
}

/// An answer of the `/v1` API: its typed shape, and the JSON it was decoded from (printed as it came, or kept byte
/// for byte).
public struct PlatformAnswer<Output> {
    public var output: Output
    public var json: Data

    public init(output: Output, json: Data) {
        self.output = output
        self.json = json
    }
}

extension PlatformAnswer: Sendable where Output: Sendable {}
