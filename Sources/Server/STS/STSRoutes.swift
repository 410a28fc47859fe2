public import AccessControl
import Foundation
import HTTPTypes
import Hummingbird
import WireShapes
import NIOCore
import SealedSupport

/// The STS query protocol on `POST /`: a form-encoded body `Action=AssumeRole&Version=2011-06-15&…` signed for the
/// service `sts`, answered in XML as AWS STS answers (`AssumeRole`, `GetCallerIdentity`).
///
/// Errors are STS's XML `ErrorResponse` with its codes: `AccessDenied` (403) for a refused `AssumeRole`,
/// `ValidationError` (400), `InvalidAction` (400) for another action, `MissingParameter` (400).
public struct STSRoutes: Sendable {
    public let identities: IdentityService

    public init(identities: IdentityService) { self.identities = identities }

    /// Whether a `POST /` is an STS query request rather than a KMS JSON one.
    static func isQuery(_ request: Request) -> Bool {
        guard request.headers.value(of: .amzTarget) == nil, let type = request.headers.value(of: .contentType) else {
            return false
        }
        return type.lowercased().hasPrefix("application/x-www-form-urlencoded")
    }

    func handle(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let body = try await request.body.collect(upTo: .max)
        let requestID = UUID.random().lowercasedString
        do {
            switch try STSQueryRequest(fields: STSForm.decode(body.readableBytesView)) {
            case .assumeRole(let roleArn, let sessionName, let duration):
                return try await assumeRole(
                    roleArn,
                    sessionName: sessionName,
                    duration: duration,
                    context: context,
                    requestID: requestID
                )
            case .getCallerIdentity:
                let identity = identities.callerIdentity(of: context.principal.arn)
                return Self.xml(
                    "GetCallerIdentity",
                    result: "<Arn>\(Self.escape(identity.arn))</Arn><UserId>\(Self.escape(identity.userID))</UserId>"
                        + "<Account>\(identity.account)</Account>",
                    requestID: requestID
                )
            }
        } catch let error as STSError {
            throw STSErrorResponse(
                code: error.code.rawValue,
                message: error.message,
                status: HTTPResponse.Status(code: error.statusCode)
            )
        } catch let error as AccessControlError {
            throw STSErrorResponse(error, requestID: requestID)
        }
    }

    private func assumeRole(
        _ roleArn: String,
        sessionName: String,
        duration: Int?,
        context: AuthenticatedContext,
        requestID: String
    ) async throws
        -> Response
    {
        let session = try await identities.assumeRole(
            roleArn,
            sessionName: sessionName,
            duration: duration,
            caller: context.principal.arn,
            sourceIP: context.sourceIP
        )
        let key = session.accessKey
        let expiration = ISO8601.format(key.expiration ?? Date())
        return Self.xml(
            "AssumeRole",
            result: """
                <AssumedRoleUser><AssumedRoleId>\(Self.escape(session.assumedRoleID))</AssumedRoleId>\
                <Arn>\(Self.escape(session.arn))</Arn></AssumedRoleUser>\
                <Credentials><AccessKeyId>\(key.id)</AccessKeyId>\
                <SecretAccessKey>\(Self.escape(key.secretAccessKey))</SecretAccessKey>\
                <SessionToken>\(Self.escape(key.sessionToken ?? ""))</SessionToken>\
                <Expiration>\(expiration)</Expiration></Credentials>
                """,
            requestID: requestID
        )
    }

    static func xml(_ action: String, result: String, requestID: String) -> Response {
        let text = """
            <\(action)Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><\(action)Result>\(result)</\(action)Result>\
            <ResponseMetadata><RequestId>\(requestID)</RequestId></ResponseMetadata></\(action)Response>
            """
        return Response(
            status: .ok,
            headers: [.contentType: "text/xml"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// XML text: `&`, `<`, `>`, `"` and `'` as entities, matched as Unicode scalars (as a `Character`, `<` followed by
    /// a combining mark would not match, and would reach the XML raw).
    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}

/// An STS error in the query protocol's XML shape.
struct STSErrorResponse: Error, HTTPResponseError {
    var code: String
    var message: String
    var status: HTTPResponse.Status
    var requestID = UUID.random().lowercasedString

    init(code: String, message: String, status: HTTPResponse.Status) {
        self.code = code
        self.message = message
        self.status = status
    }

    /// Identity errors as STS names them.
    init(_ error: AccessControlError, requestID: String) {
        switch error.code {
        case .accessDenied, .noSuchEntity: self.init(code: "AccessDenied", message: error.message, status: .forbidden)
        default: self.init(code: "ValidationError", message: error.message, status: .badRequest)
        }
        self.requestID = requestID
    }

    /// A request refused because the database could not be reached (503; clients retry it).
    static var unavailable: STSErrorResponse {
        STSErrorResponse(
            code: "ServiceUnavailable",
            message: "The database is unavailable; the request was not completed. Retry it later.",
            status: .serviceUnavailable
        )
    }

    /// The signature middleware's rejections (KMS names) as STS names them.
    init(_ error: KMSError) {
        let code: String
        switch error.code.rawValue {
        case "InvalidSignatureException": code = "SignatureDoesNotMatch"
        case "UnrecognizedClientException": code = "InvalidClientTokenId"
        case "ExpiredTokenException": code = "ExpiredToken"
        case "IncompleteSignatureException": code = "IncompleteSignature"
        case "MissingAuthenticationTokenException": code = "MissingAuthenticationToken"
        case "RequestEntityTooLargeException": code = "RequestEntityTooLarge"
        default: code = error.code.rawValue.replacingOccurrences(of: "Exception", with: "")
        }
        self.init(code: code, message: error.message, status: HTTPResponse.Status(code: error.statusCode))
    }

    func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        let text = """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>\(code)</Code><Message>\(STSRoutes.escape(message))</Message></Error>\
            <RequestId>\(requestID)</RequestId></ErrorResponse>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/xml"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}
