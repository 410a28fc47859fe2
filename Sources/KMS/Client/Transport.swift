package import AsyncHTTPClient
package import Foundation
package import Logging
internal import NIOCore
internal import NIOHTTP1
internal import SealedSupport
package import SigV4

/// A response as the transport hands it to the protocol layer: status, headers and the whole body.
package struct RawResponse: Sendable {
    package var status: Int
    var headers: HTTPHeaders
    package var body: [UInt8]

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// An error the protocol layer decoded from a response, which may be worth retrying.
protocol RetryableServiceError: Error {
    var isRetryable: Bool { get }
}

extension KMSError: RetryableServiceError {}

/// Sends signed AWS requests over one `HTTPClient`: SigV4 signing, per-attempt timeout, response size limit,
/// and bounded retries with exponential backoff and full jitter.
package struct Transport: Sendable {
    let httpClient: HTTPClient
    package let endpoint: URL
    let region: String
    let service: String
    let credentialProvider: any CredentialProvider
    let options: ClientOptions
    let logger: Logger
    let signer: Signer
    let host: String
    let path: String

    package init(
        httpClient: HTTPClient,
        endpoint: URL,
        region: String,
        service: String,
        credentialProvider: any CredentialProvider,
        options: ClientOptions,
        logger: Logger,
        signing: Signer.Options = Signer.Options()
    ) throws(ClientError) {
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let hostName = endpoint.host, !hostName.isEmpty
        else { throw ClientError(.invalidConfiguration, "endpoint \(endpoint) is not an http(s) URL with a host") }
        self.httpClient = httpClient
        self.endpoint = endpoint
        self.region = region
        self.service = service
        self.credentialProvider = credentialProvider
        self.options = options
        self.logger = logger
        self.signer = Signer(options: signing)
        let bracketed = hostName.contains(":") ? "[\(hostName)]" : hostName
        if let port = endpoint.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            self.host = "\(bracketed):\(port)"
        } else {
            self.host = bracketed
        }
        let endpointPath = endpoint.path
        self.path = endpointPath.isEmpty ? "/" : endpointPath
    }

    /// Sends a POST with the given body and headers, retrying as ``ClientOptions`` says, and hands each response
    /// to `decode`, which returns the result or throws (a ``RetryableServiceError`` may be retried). Each attempt is
    /// signed anew.
    package func send<Result>(
        operation: String,
        method: String = "POST",
        path: String? = nil,
        query: String = "",
        body: [UInt8],
        headers: [(name: String, value: String)],
        decode: (RawResponse) throws -> Result
    ) async throws -> Result {
        try await retrying(operation) {
            let path = path ?? self.path
            let signed = try await sign(method: method, path: path, query: query, body: body, headers: headers)
            return try decode(try await attemptOnce(method: method, path: path, query: query, body: body, headers: signed))
        }
    }

    /// Sends a POST of `body` to the endpoint with headers a caller already signed (its `Host` and signature
    /// included), unchanged, retrying as ``send(operation:method:path:query:body:headers:decode:)`` does.
    package func sendPresigned<Result>(
        operation: String,
        body: [UInt8],
        headers: [(name: String, value: String)],
        decode: (RawResponse) throws -> Result
    ) async throws -> Result {
        try await retrying(operation) {
            try decode(try await attemptOnce(method: "POST", path: path, query: "", body: body, headers: headers))
        }
    }

    /// The headers of a signed request to the endpoint, without sending it: `Host`, `headers`, then the signature's
    /// (`X-Amz-Date`, `X-Amz-Security-Token` for session credentials, `Authorization`).
    package func sign(
        method: String = "POST",
        path: String? = nil,
        query: String = "",
        body: [UInt8],
        headers: [(name: String, value: String)]
    ) async throws -> [(name: String, value: String)] {
        let credentials = try await credentialProvider.credentials()
        var signed: [(name: String, value: String)] = [(name: "Host", value: host)]
        signed.append(contentsOf: headers)
        let signature = signer.sign(
            SigV4.Request(method: method, path: path ?? self.path, query: query, headers: signed, payload: .body(body)),
            credentials: credentials,
            region: region,
            service: service,
            date: Date()
        )
        for header in signature.headers {
            if let index = signed.firstIndex(where: { $0.name.lowercased() == header.name.lowercased() }) {
                signed[index] = header
            } else {
                signed.append(header)
            }
        }
        return signed
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts run out, with backoff between attempts.
    private func retrying<Result>(_ operation: String, _ attempt: () async throws -> Result) async throws -> Result {
        var number = 1
        while true {
            do {
                return try await attempt()
            } catch {
                guard number < options.maxAttempts, Self.isRetryable(error), !Task.isCancelled else { throw error }
                let delay = options.backoff(beforeRetry: number)
                logger.debug(
                    "retrying AWS call",
                    metadata: [
                        "service": "\(service)", "operation": "\(operation)", "attempt": "\(number)",
                        "error": "\(error)", "delay": "\(delay)",
                    ]
                )
                try await Task.sleep(for: delay)
                number += 1
            }
        }
    }

    /// The HTTP client requests are sent on.
    package var client: HTTPClient { httpClient }
    /// The options: retries, timeouts, user agent.
    package var clientOptions: ClientOptions { options }

    /// A signed request for the caller to send and stream itself, without a body yet. With `bodyFollows` (the
    /// default) it is signed before its body is known, for a body streamed after it: the payload line is
    /// `UNSIGNED-PAYLOAD`, declared (and signed) in `x-amz-content-sha256`; only the platform's publish stream accepts
    /// it. Without, it is a request with no body whose answer the caller streams (an audit export). `path` is already
    /// percent-encoded.
    package func streamingRequest(
        method: String,
        path: String,
        query: String = "",
        headers: [(name: String, value: String)],
        bodyFollows: Bool = true
    ) async throws -> HTTPClientRequest {
        let payload: Payload = bodyFollows ? .unsigned : .empty
        let credentials = try await credentialProvider.credentials()
        var signed: [(name: String, value: String)] = [(name: "Host", value: host)]
        signed.append(contentsOf: headers)
        if bodyFollows { signed.append((name: "x-amz-content-sha256", value: Payload.unsigned.value)) }
        let signature = signer.sign(
            SigV4.Request(method: method, path: path, query: query, headers: signed, payload: payload),
            credentials: credentials,
            region: region,
            service: service,
            date: Date()
        )
        let scheme = endpoint.scheme?.lowercased() ?? "http"
        var request = HTTPClientRequest(url: "\(scheme)://\(host)\(path)" + (query.isEmpty ? "" : "?" + query))
        request.method = HTTPMethod(rawValue: method)
        for header in signed { request.headers.add(name: header.name, value: header.value) }
        for header in signature.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        request.headers.add(name: "User-Agent", value: options.userAgent)
        return request
    }

    static func isRetryable(_ error: any Error) -> Bool {
        if let error = error as? ClientError { return error.isRetryable }
        if let error = error as? any RetryableServiceError { return error.isRetryable }
        return false
    }

    /// One signed request. `path` is already percent-encoded; `query` is the canonical query string (or empty).
    private func attemptOnce(
        method: String,
        path: String,
        query: String,
        body: [UInt8],
        headers: [(name: String, value: String)]
    ) async throws -> RawResponse {
        var url = endpoint.absoluteString
        if path != self.path {
            let scheme = endpoint.scheme?.lowercased() ?? "http"
            url = "\(scheme)://\(host)\(path)"
        }
        if !query.isEmpty { url += "?" + query }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.headers.add(name: "User-Agent", value: options.userAgent)
        request.headers.add(name: "Content-Length", value: String(body.count))
        request.body = .bytes(ByteBuffer(bytes: body))

        let timeout = options.timeout
        let limit = options.maxResponseBytes
        let client = httpClient
        let prepared = request
        return try await withThrowingTaskGroup(of: RawResponse.self) { group in
            group.addTask {
                try await Self.execute(prepared, client: client, timeout: timeout, limit: limit)
            }
            group.addTask {
                // A backstop: the HTTP client's own deadline (the same timeout) normally ends the request first,
                // with the more precise error (for example the connection failure it kept retrying).
                try await Task.sleep(for: timeout + .milliseconds(500))
                throw ClientError(.timeout, "no complete response within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else {
                throw ClientError(.connectionFailed, "the request ended without a response")
            }
            return first
        }
    }

    private static func execute(
        _ request: HTTPClientRequest,
        client: HTTPClient,
        timeout: Duration,
        limit: Int
    ) async throws -> RawResponse {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount.nanoseconds(Int64(timeout.nanoseconds)))
        } catch {
            throw classify(error, receivingBody: false)
        }
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
            throw ClientError(.responseTooLarge, "the response declares \(length) bytes, more than the limit \(limit)")
        }
        do {
            let buffer = try await response.body.collect(upTo: limit)
            return RawResponse(
                status: Int(response.status.code),
                headers: response.headers,
                body: Array(buffer.readableBytesView)
            )
        } catch {
            throw classify(error, receivingBody: true)
        }
    }

    private static func classify(_ error: any Error, receivingBody: Bool) -> any Error {
        if error is ClientError || error is CancellationError { return error }
        if error is NIOTooManyBytesError {
            return ClientError(.responseTooLarge, "the response body is larger than the limit")
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return ClientError(.timeout, "no complete response in time (\(error))")
            case .cancelled:
                return CancellationError()
            default:
                break
            }
        }
        if receivingBody {
            return ClientError(.truncatedResponse, "the response body ended early: \(error)")
        }
        return ClientError(.connectionFailed, "could not complete the request: \(error)")
    }
}

/// The `HTTPClient` every KMS and STS client uses unless given one: created on first use, shared by all clients
/// of the process (so connections are reused across them), never shut down.
///
/// It differs from `HTTPClient.shared` in two settings: redirects are refused (AWS APIs never redirect a signed
/// POST), and a failed connection attempt is not retried inside the HTTP client, which would otherwise keep
/// retrying until the request's deadline; the clients' own bounded retry with backoff decides instead, so a
/// refused connection surfaces as ``ClientError`` `connectionFailed` at once.
package let sharedHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(10)
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

extension Logger {
    /// A logger that drops everything: the default when the caller passes none.
    package static let noop = Logger(label: "sealed.kms", factory: { _ in SwiftLogNoOpLogHandler() })
}
