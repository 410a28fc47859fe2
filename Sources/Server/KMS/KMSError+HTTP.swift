import Foundation
public import HTTPTypes
public import Hummingbird
public import WireShapes
import NIOCore
import SealedSupport
import SigV4

/// Domain errors become HTTP responses here, at the edge, and nowhere else.
///
/// The body is the AWS JSON 1.1 error shape, `{"__type": "<code>", "message": "<message>"}`, with
/// `Content-Type: application/x-amz-json-1.1` and the status of the error (``KMS/KMSError/statusCode``).
extension KMSError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = (try? AWSJSON.encoder().encode(shape)) ?? Data(#"{"__type":"KMSInternalException"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: AWSJSON.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

extension KMSError.Code {
    /// A request without any SigV4 authentication.
    static let missingAuthenticationTokenException: Self = "MissingAuthenticationTokenException"
    /// A signature that cannot be read (JSON protocols answer `IncompleteSignatureException`).
    static let incompleteSignatureException: Self = "IncompleteSignatureException"
    /// A body over the server's limit.
    static let requestEntityTooLargeException: Self = "RequestEntityTooLargeException"
}

extension KMSError {
    static var missingAuthenticationToken: KMSError {
        KMSError(code: .missingAuthenticationTokenException, message: "Missing Authentication Token")
    }

    static var unrecognizedClient: KMSError {
        KMSError(code: .unrecognizedClientException, message: "The security token included in the request is invalid.")
    }

    static var signatureDoesNotMatch: KMSError {
        KMSError(
            code: .invalidSignatureException,
            message:
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
                + "Access Key and signing method. Consult the service documentation for details."
        )
    }

    static var expiredToken: KMSError {
        KMSError(code: .expiredTokenException, message: "The security token included in the request is expired")
    }

    /// HTTP 413 in the JSON 1.1 error shape, so SDKs still read a code.
    static func requestEntityTooLarge(limit: Int) -> KMSError {
        KMSError(
            code: .requestEntityTooLargeException,
            message: "Request body must be less than or equal to \(limit) bytes.",
            statusCode: 413
        )
    }

    /// A missing `X-Amz-Target`, another service's, or an operation the server does not implement; AWS sends no
    /// message with it.
    static var unknownOperation: KMSError { KMSError(code: .unknownOperationException) }

    /// A body whose HTTP/1.1 framing is broken (chunked encoding, length): 400 `SerializationException`.
    static var malformedBody: KMSError {
        serialization("The request body is not well-formed HTTP/1.1 (its chunked encoding or length is invalid).")
    }

    static func serialization(_ message: String) -> KMSError {
        KMSError(code: .serializationException, message: message)
    }

    /// The error AWS answers for a SigV4 rejection.
    ///
    /// - Parameters:
    ///   - rejection: Why the verifier refused the request; its detail never holds a secret.
    ///   - amzDate: The request's `X-Amz-Date`, for the message of a skewed signature.
    ///   - now: The server's clock.
    ///   - allowedSkew: The skew the verifier allows.
    static func rejected(
        _ rejection: Rejection,
        amzDate: String?,
        now: Date,
        allowedSkew: Duration
    ) -> KMSError {
        switch rejection.reason {
        case .missingAuthentication:
            return .missingAuthenticationToken
        case .malformedAuthorization:
            return KMSError(code: .incompleteSignatureException, message: rejection.detail)
        case .unknownAccessKey, .missingSessionToken, .invalidSessionToken:
            return .unrecognizedClient
        case .signatureMismatch, .payloadHashMismatch:
            return .signatureDoesNotMatch
        case .expiredSessionToken:
            return .expiredToken
        case .requestTimeTooSkewed, .requestExpired:
            return KMSError(
                code: .invalidSignatureException,
                message: skewMessage(amzDate: amzDate, now: now, allowedSkew: allowedSkew)
            )
        default:
            // Scope mismatches and unsigned payloads: AWS answers InvalidSignatureException with a sentence.
            return KMSError(code: .invalidSignatureException, message: rejection.detail)
        }
    }

    /// AWS's wording: `Signature expired: <signed> is now earlier than <now - skew> (<now> - 15 min.)`, or
    /// `Signature not yet current: <signed> is still later than <now + skew> (<now> + 15 min.)`.
    static func skewMessage(amzDate: String?, now: Date, allowedSkew: Duration) -> String {
        let skewSeconds = Double(allowedSkew.components.seconds)
        let minutes = Int(skewSeconds / 60)
        let signed = amzDate.flatMap { Timestamp(amzDate: $0)?.date }
        let nowText = Timestamp(now).amzDate
        if let signed, signed > now {
            return "Signature not yet current: \(amzDate ?? "") is still later than "
                + "\(Timestamp(now.addingTimeInterval(skewSeconds)).amzDate) (\(nowText) + \(minutes) min.)"
        }
        return "Signature expired: \(amzDate ?? "") is now earlier than "
            + "\(Timestamp(now.addingTimeInterval(-skewSeconds)).amzDate) (\(nowText) - \(minutes) min.)"
    }
}
