public import Foundation
import HTTPTypes
public import Hummingbird
import WireShapes
import Logging
import NIOCore
import SigV4

/// Verifies the SigV4 signature of every request that reaches the routes behind it, and records the signer in the
/// context.
///
/// It first collects the body, up to the server's limit (`RequestEntityTooLargeException`, HTTP 413, beyond it),
/// because the signature covers the body's SHA-256; the collected body stays on the request for the handler. It then
/// builds a `SigV4.Request` from the request as received (method, raw path and query, headers in order, with `host`
/// from the authority when HTTP/1's `Host` became the authority), verifies it, and takes the principal the credential
/// lookup gave with the secret (``SigV4/Verifier/Secret/owner``: one lookup per request). A
/// rejection becomes the AWS error of ``KMS/KMSError/rejected(_:amzDate:now:allowedSkew:)``.
///
/// Presigned URLs are refused, and `X-Amz-Target` must be among the signed headers when present: both are
/// `IncompleteSignatureException` (`IncompleteSignature` in STS's XML).
///
/// One route takes `x-amz-content-sha256: UNSIGNED-PAYLOAD`: the publish stream
/// (`POST /v1/topics/{topic}/events:stream`, see ``PublishStream``), whose body is read as it arrives and cannot be
/// hashed before the signature is checked. Its opening request is verified like any other (method, path, headers,
/// time, scope, key) and its body is left on the request unread; everywhere else `UNSIGNED-PAYLOAD` is refused
/// (`unsignedPayloadNotAllowed`).
public struct SigV4Authenticator: RouterMiddleware {
    public typealias Context = ServerContext

    let verifier: Verifier
    /// The same verifier with `UNSIGNED-PAYLOAD` allowed: for publish streams only.
    let streamVerifier: Verifier
    let maximumBodySize: Int
    let allowedClockSkew: Duration
    let now: @Sendable () -> Date

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - region: The region every credential scope must name.
    ///   - services: The services a credential scope may name (`kms`; `sts` later).
    ///   - authentication: The credentials and principals of the callers.
    ///   - maximumBodySize: The largest body accepted, in bytes.
    ///   - allowedClockSkew: How far the signing time may be from `now`.
    ///   - now: The server's clock.
    public init(
        region: String,
        services: Set<String>,
        authentication: Authentication,
        maximumBodySize: Int,
        allowedClockSkew: Duration = .seconds(15 * 60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        var options = Verifier.Options()
        options.allowedClockSkew = allowedClockSkew
        // No operation served here is one AWS lets anyone presign (KMS JSON and `/v1` never; STS here is POST only).
        options.allowsPresignedURLs = false
        // The operation of a KMS request must be covered by its signature.
        options.headersSignedWhenPresent = ["x-amz-target"]
        self.verifier = Verifier(
            region: region,
            services: services,
            options: options,
            now: now,
            credentials: authentication.credentials
        )
        options.allowsUnsignedPayload = true
        self.streamVerifier = Verifier(
            region: region,
            services: services,
            options: options,
            now: now,
            credentials: authentication.credentials
        )
        self.maximumBodySize = maximumBodySize
        self.allowedClockSkew = allowedClockSkew
        self.now = now
    }

    public func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        var request = request
        // The middleware's own rejections speak the protocol of the request: STS's XML for a query request.
        let isQuery = STSRoutes.isQuery(request)
        func fail(_ error: KMSError) -> any Error { isQuery ? STSErrorResponse(error) : error }
        let streaming = Self.isUnsignedStream(request)
        let signed: SigV4.Request
        if streaming {
            signed = Self.signingRequest(request, payload: .unsigned)
        } else {
            let body: ByteBuffer
            do {
                body = try await Self.collectBody(of: &request, limit: maximumBodySize)
            } catch let error as KMSError {
                throw fail(error)
            }
            signed = Self.signingRequest(request, body: body)
        }
        switch try await (streaming ? streamVerifier : verifier).verify(signed) {
        case .rejected(let rejection):
            context.logger.debug(
                "request rejected",
                metadata: [
                    "sigv4.reason": "\(rejection.reason)", "sigv4.access_key_id": "\(rejection.accessKeyId ?? "-")",
                ]
            )
            throw fail(
                KMSError.rejected(
                    rejection,
                    amzDate: request.headers.value(of: .amzDate),
                    now: now(),
                    allowedSkew: allowedClockSkew
                )
            )
        case .verified(let verified):
            guard let arn = verified.owner else {
                context.logger.debug("request rejected", metadata: ["sigv4.reason": "no principal"])
                throw fail(KMSError.unrecognizedClient)
            }
            var context = context
            context.principal = AuthenticatedPrincipal(
                arn: arn,
                accessKeyId: verified.accessKeyId,
                service: verified.scope.service,
                signedBody: !streaming
            )
            context.auditNote?.setPrincipal(arn, accessKeyId: verified.accessKeyId)
            // swift-log's stream handler renders its metadata on every change: only pay for it when debugging.
            if context.logger.logLevel <= .debug { context.logger[metadataKey: "principal"] = "\(arn)" }
            return try await next(request, context)
        }
    }

    /// Collects the body into one buffer, kept on the request, refusing more than `limit` bytes without reading them
    /// when `Content-Length` announces them.
    static func collectBody(of request: inout Request, limit: Int) async throws -> ByteBuffer {
        if let length = request.headers.value(of: .contentLength).flatMap({ Int($0) }), length > limit {
            throw KMSError.requestEntityTooLarge(limit: limit)
        }
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw KMSError.requestEntityTooLarge(limit: limit)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The body's stream fails only for its framing (a chunk size that is not hex, a body shorter than its
            // Content-Length…) or a broken connection: the client's doing, a 400, never an internal error.
            throw KMSError.malformedBody
        }
    }

    /// Whether `request` opens a publish stream with `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
    static func isUnsignedStream(_ request: Request) -> Bool {
        request.headers.value(of: .amzContentSHA256) == Payload.unsigned.value && BusRoutes.isEventStream(request)
    }

    /// The parts SigV4 signs, as received.
    static func signingRequest(_ request: Request, body: ByteBuffer) -> SigV4.Request {
        signingRequest(request, payload: body.withUnsafeReadableBytes { Payload.body($0) })
    }

    /// The parts SigV4 signs, as received, with the payload line `payload`.
    static func signingRequest(_ request: Request, payload: Payload) -> SigV4.Request {
        let target = request.head.path ?? "/"
        let path: Substring
        let query: Substring
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = target[target.index(after: mark)...]
        } else {
            path = target[...]
            query = ""
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        if let authority = request.head.authority, request.headers.value(of: .hostHeader) == nil {
            headers.append((name: "host", value: authority))
        }
        for field in request.headers {
            headers.append((name: field.name.rawName, value: field.value))
        }
        return SigV4.Request(
            method: request.method.rawValue,
            path: String(path),
            query: String(query),
            headers: headers,
            payload: payload
        )
    }
}
