import struct AccessControl.CallerIdentity
public import Hummingbird
import WireShapes
import NIOCore

/// The request context of every route of the server.
///
/// It carries what the edge learns about a request before a handler sees it: the peer's address and, once the
/// SigV4 middleware has verified the request, the principal who signed it. Handlers of signed routes use
/// ``AuthenticatedContext`` instead, whose principal is not optional.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, when the request came over a network channel.
    public var sourceIP: String?
    /// The verified signer, set by the SigV4 middleware.
    public var principal: AuthenticatedPrincipal?
    /// The AWS request id (`x-amzn-RequestId`), set by the ``RequestObserver``.
    public var requestID: String = ""
    /// What the middleware and handlers learn for the request's audit record, when it is audited.
    public var auditNote: AuditNote?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.sourceIP = source.channel.remoteAddress?.ipAddress
        self.principal = nil
    }

    /// Bodies are collected by the SigV4 middleware with the server's own limit; this bounds everything else.
    public var maxUploadSize: Int { SealedServer.Configuration.defaultMaximumBodySize }
}

/// The context of routes behind the SigV4 middleware: its principal is not optional.
///
/// Creating it from a ``ServerContext`` that carries no principal fails with `MissingAuthenticationTokenException`,
/// so a route wired without the middleware refuses every request instead of running anonymously.
public struct AuthenticatedContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who signed the request.
    public let principal: AuthenticatedPrincipal
    /// The peer's IP address, when known.
    public let sourceIP: String?
    /// The request's audit note, when it is audited.
    public let auditNote: AuditNote?

    public init(context: ServerContext) throws {
        guard let principal = context.principal else { throw KMSError.missingAuthenticationToken }
        self.coreContext = context.coreContext
        self.principal = principal
        self.sourceIP = context.sourceIP
        self.auditNote = context.auditNote
    }

    public var maxUploadSize: Int { SealedServer.Configuration.defaultMaximumBodySize }
}

/// The identity behind a verified signature.
public struct AuthenticatedPrincipal: Sendable, Hashable {
    /// The principal's ARN (`arn:aws:iam::ACCOUNT:user/NAME`, an assumed-role session, …).
    public let arn: String
    /// The access key id the request was signed with.
    public var accessKeyId: String
    /// The principal's account: the fifth field of ``arn`` when it has one.
    public let account: String?

    /// The service of the signature's credential scope (`kms`, `sts`, `sealed`).
    public var service: String
    /// Whether the signature covers the body: `false` only for a publish stream signed with `UNSIGNED-PAYLOAD`
    /// (see ``BusRoutes``), whose body is read as it arrives.
    public var signedBody: Bool

    public init(arn: String, accessKeyId: String, service: String = "kms", signedBody: Bool = true) {
        self.arn = arn
        self.signedBody = signedBody
        let fields = CallerIdentity.arnFields(arn)
        self.account = fields.count >= 5 && !fields[4].isEmpty ? String(fields[4]) : nil
        self.accessKeyId = accessKeyId
        self.service = service
    }

    /// Refuses a signature scoped to another service than the endpoint's, as AWS does.
    func requireService(_ expected: String) throws {
        guard service == expected else {
            throw KMSError(
                code: .invalidSignatureException,
                message: "Credential should be scoped to correct service: '\(expected)'."
            )
        }
    }
}
