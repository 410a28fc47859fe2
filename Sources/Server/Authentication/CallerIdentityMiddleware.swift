import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import WireShapes

/// Authenticates `/v1` in AWS mode: the caller hands a signed STS `GetCallerIdentity` in
/// ``WireShapes/SignedCallerIdentity/header`` (made for this server's id), which ``CallerIdentityAuthenticator``
/// has STS confirm; the ARN STS answers is the request's principal. A request without the header, or whose signed
/// request is refused, is answered 403 with the refusal's code (`WrongAudience`, `ExpiredCallerIdentity`,
/// `RejectedBySTS`, …) and message. The body is collected up to the server's limit, as the SigV4 middleware does.
public struct CallerIdentityMiddleware: RouterMiddleware {
    public typealias Context = ServerContext

    let authenticator: CallerIdentityAuthenticator
    let maximumBodySize: Int

    public init(authenticator: CallerIdentityAuthenticator, maximumBodySize: Int) {
        self.authenticator = authenticator
        self.maximumBodySize = maximumBodySize
    }

    public func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        var request = request
        guard let header = request.headers[values: HTTPField.Name(SignedCallerIdentity.header)!].first else {
            throw KMSError(
                code: .missingAuthenticationTokenException,
                message:
                    "This server is in AWS mode: send a signed GetCallerIdentity in \(SignedCallerIdentity.header) "
                    + "(its id is in GET /v1/server).",
                statusCode: 403
            )
        }
        let caller: CallerIdentityAuthenticator.Caller
        do {
            caller = try await authenticator.authenticate(header)
        } catch {
            context.logger.debug("caller identity refused", metadata: ["reason": "\(error.code.rawValue)"])
            let status = error.code == .stsUnavailable ? 503 : 403
            throw KMSError(
                code: KMSError.Code(rawValue: error.code.rawValue),
                message: error.message,
                statusCode: status
            )
        }
        _ = try await SigV4Authenticator.collectBody(of: &request, limit: maximumBodySize)
        var context = context
        context.principal = AuthenticatedPrincipal(arn: caller.arn, accessKeyId: caller.accessKeyId, service: "sealed")
        context.auditNote?.setPrincipal(caller.arn, accessKeyId: caller.accessKeyId)
        if context.logger.logLevel <= .debug { context.logger[metadataKey: "principal"] = "\(caller.arn)" }
        return try await next(request, context)
    }
}

/// `GET /v1/server`, unauthenticated: how a client must authenticate here. In AWS mode
/// `{"Mode":"aws","ServerId":…,"Account":…,"Region":…}`; otherwise `{"Mode":"sigv4"}`.
struct ServerDescription: Encodable {
    var mode: String
    var serverId: String?
    var account: String?
    var region: String?

    enum CodingKeys: String, CodingKey {
        case mode = "Mode", serverId = "ServerId", account = "Account", region = "Region"
    }

    var response: Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data()
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
