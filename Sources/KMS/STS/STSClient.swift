public import AsyncHTTPClient
public import Foundation
public import Logging
import SealedSupport

extension STSError: RetryableServiceError {}

/// A client of AWS STS (or a compatible service) over the query protocol: a form-encoded `POST` with
/// `Action=…&Version=2011-06-15`, signed with SigV4 for the service `sts`, answered in XML.
///
/// Retries, timeouts and limits work as for ``KMSClient``; the service's errors are ``STSError``s.
public struct STSClient: AWSServiceClient {
    let transport: Transport

    public static func endpoint(in configuration: AWSConfiguration) -> URL { configuration.stsEndpoint }

    /// The endpoint requests go to.
    public var endpoint: URL { transport.endpoint }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: The region to sign for.
    ///   - credentialProvider: Where each request's credentials come from.
    ///   - endpoint: The service URL; `https://sts.<region>.amazonaws.com` when `nil`.
    ///   - httpClient: The HTTP client to send with; when `nil`, one process-wide client shared by every KMS and STS
    ///     client, which needs no shutdown. A client passed in stays the caller's to shut down.
    ///   - options: Retries, timeout and response limits.
    ///   - logger: Where retries are logged.
    public init(
        region: String,
        credentialProvider: any CredentialProvider,
        endpoint: URL? = nil,
        httpClient: HTTPClient? = nil,
        options: ClientOptions = ClientOptions(),
        logger: Logger? = nil
    ) throws(ClientError) {
        transport = try Transport(
            httpClient: httpClient ?? sharedHTTPClient,
            endpoint: endpoint ?? AWSConfiguration.defaultEndpoint(service: "sts", region: region),
            region: region,
            service: "sts",
            credentialProvider: credentialProvider,
            options: options,
            logger: logger ?? .noop
        )
    }


    /// `AssumeRole`: temporary credentials of a role.
    ///
    /// - Throws: ``STSError`` (`AccessDenied` when the caller may not assume the role), ``ClientError``.
    public func assumeRole(_ request: AssumeRoleRequest) async throws -> AssumeRoleResponse {
        try await call("AssumeRole", parameters: request.parameters) { root in
            guard let result = root.child("AssumeRoleResult"), let credentials = result.child("Credentials"),
                let accessKeyId = credentials.child("AccessKeyId")?.text, !accessKeyId.isEmpty,
                let secret = credentials.child("SecretAccessKey")?.text, !secret.isEmpty,
                let token = credentials.child("SessionToken")?.text, !token.isEmpty,
                let expirationText = credentials.child("Expiration")?.text,
                let expiration = Self.parseTimestamp(expirationText)
            else { return nil }
            return AssumeRoleResponse(
                credentials: SessionCredentials(
                    accessKeyId: accessKeyId,
                    secretAccessKey: secret,
                    sessionToken: token,
                    expiration: expiration
                ),
                assumedRoleArn: result.path("AssumedRoleUser", "Arn")?.text,
                assumedRoleId: result.path("AssumedRoleUser", "AssumedRoleId")?.text,
                packedPolicySize: result.child("PackedPolicySize").flatMap { Int($0.text) }
            )
        }
    }

    /// `GetCallerIdentity`: who the credentials belong to.
    public func getCallerIdentity() async throws -> GetCallerIdentityResponse {
        try await call(
            "GetCallerIdentity",
            parameters: STSQueryRequest.getCallerIdentity.parameters,
            decode: Self.callerIdentity
        )
    }

    private func call<Result>(
        _ action: String,
        parameters: [(name: String, value: String)],
        decode: (XMLTree) -> Result?
    ) async throws -> Result {
        let body = Array(STSForm.encode(parameters).utf8)
        return try await transport.send(
            operation: action,
            body: body,
            headers: [(name: "Content-Type", value: STSProtocol.contentType)]
        ) { response in
            try Self.answer(response, to: action, decode: decode)
        }
    }

    /// The result of an answer: `decode` of its XML root, an ``STSError`` for an AWS error, a ``ClientError`` for
    /// anything else.
    static func answer<Result>(
        _ response: RawResponse,
        to action: String,
        decode: (XMLTree) -> Result?
    ) throws -> Result {
        guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
        guard let root = XMLTree.parse(response.body) else {
            throw ClientError(
                .malformedResponse,
                "the \(action) response (HTTP \(response.status), \(response.body.count) bytes) is not well-formed XML"
            )
        }
        guard root.name == "\(action)Response", let result = decode(root) else {
            throw ClientError(
                .malformedResponse,
                "the \(action) response lacks required elements (root <\(root.name)>)"
            )
        }
        return result
    }

    static func callerIdentity(_ root: XMLTree) -> GetCallerIdentityResponse? {
        guard let result = root.child("GetCallerIdentityResult") else { return nil }
        return GetCallerIdentityResponse(
            account: result.child("Account")?.text,
            arn: result.child("Arn")?.text,
            userId: result.child("UserId")?.text
        )
    }

    static func error(from response: RawResponse) -> STSError { ErrorBody.serviceError(response, unknown: .unknownError) }

    /// Parses an ISO 8601 timestamp with or without fractional seconds (STS sends `2026-11-29T10:15:00Z`, moto
    /// `2026-11-29T10:15:00.123Z`).
    static func parseTimestamp(_ text: String) -> Date? { ISO8601.parse(text) }
}
