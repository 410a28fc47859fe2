public import AsyncHTTPClient
public import Foundation
public import Logging

/// A client of AWS KMS, or of any service that speaks its JSON 1.1 protocol (our key service, moto).
///
/// Each call is a `POST` of the operation's JSON input with `X-Amz-Target: TrentService.<Operation>` and
/// `Content-Type: application/x-amz-json-1.1`, signed with SigV4 for the service `kms`. Throttling, HTTP 5xx,
/// timeouts and connection failures are retried with exponential backoff and full jitter, up to
/// ``ClientOptions/maxAttempts`` attempts. The service's own errors are ``KMSError``s; failures to reach it or to
/// read its answer are ``ClientError``s.
///
/// Clients share one `HTTPClient`: by default a process-wide one that reuses connections and needs no shutdown
/// (it never retries connection attempts on its own, so the bounded retry here is the only one). A caller that
/// passes its own `HTTPClient` keeps ownership of it and shuts it down itself.
///
/// ```swift
/// let configuration = try AWSConfiguration.resolve()
/// let kms = try KMSClient(configuration: configuration)
/// let key = try await kms.generateDataKey(.init(keyId: "alias/events", numberOfBytes: 32))
/// ```
public struct KMSClient: AWSServiceClient {
    let transport: Transport

    public static func endpoint(in configuration: AWSConfiguration) -> URL { configuration.kmsEndpoint }

    /// The endpoint requests go to.
    public var endpoint: URL { transport.endpoint }
    /// The region requests are signed for.
    public var region: String { transport.region }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: The region to sign for, such as `us-east-1`.
    ///   - credentialProvider: Where each request's credentials come from.
    ///   - endpoint: The service URL; `https://kms.<region>.amazonaws.com` when `nil`.
    ///   - httpClient: The HTTP client to send with; when `nil`, one process-wide client shared by every KMS and STS
    ///     client, which needs no shutdown. A client passed in stays the caller's to shut down.
    ///   - options: Retries, timeout and response limits.
    ///   - logger: Where retries are logged (at debug level); nothing is logged when `nil`.
    /// - Throws: ``ClientError`` `invalidConfiguration` when the endpoint is not an http(s) URL.
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
            endpoint: endpoint ?? AWSConfiguration.defaultEndpoint(service: "kms", region: region),
            region: region,
            service: "kms",
            credentialProvider: credentialProvider,
            options: options,
            logger: logger ?? .noop
        )
    }


    /// Sends any KMS request and decodes its response.
    ///
    /// - Parameter request: The operation's input.
    /// - Returns: The operation's output.
    /// - Throws: ``KMSError`` for errors the service returns; ``ClientError`` when it cannot be reached or its
    ///   answer cannot be read.
    public func send<Request: KMSRequest>(_ request: Request) async throws -> Request.Response {
        let body: [UInt8]
        do {
            // The hot operations' inputs byte-level (the bytes `JSONEncoder` writes); responses are read by
            // `JSONDecoder` (`Transport.sendJSON`).
            if let shape = request as? any AWSJSONEncodable {
                body = shape.awsJSON()
            } else {
                body = Array(try AWSJSON.encoder().encode(request))
            }
        } catch {
            throw ClientError(.invalidRequest, "could not encode \(Request.operation) input: \(error)")
        }
        let operation = Request.operation
        return try await transport.sendJSON(
            operation: operation.rawValue,
            target: operation.target,
            contentType: AWSJSON.contentType,
            body: body,
            as: Request.Response.self,
            error: Self.error(from:)
        )
    }

    /// Decodes an error response: JSON 1.1 (`__type`), an XML error body, the `X-Amzn-ErrorType` header, or, failing
    /// all of those, ``KMSError/Code/unknownError`` with the HTTP status and an excerpt of the body.
    ///
    /// The query-protocol code `AccessDenied` (what IAM-enforcing services such as moto send in XML) becomes
    /// ``KMSError/Code/accessDeniedException``, the code AWS KMS uses.
    static func error(from response: RawResponse) -> KMSError {
        let parsed = ErrorBody(response)
        guard var code = parsed.code else {
            let excerpt = ErrorBody.excerpt(response.body)
            return KMSError(
                code: .unknownError,
                message: "HTTP \(response.status) without an AWS error code" + (excerpt.isEmpty ? "" : ": \(excerpt)"),
                statusCode: response.status
            )
        }
        if code == "AccessDenied" { code = KMSError.Code.accessDeniedException.rawValue }
        return KMSError(code: KMSError.Code(rawValue: code), message: parsed.message ?? "", statusCode: response.status)
    }
}

extension KMSClient {
    /// `CreateKey`: creates a KMS key.
    public func createKey(_ request: CreateKeyRequest = CreateKeyRequest()) async throws -> CreateKeyResponse {
        try await send(request)
    }

    /// `DescribeKey`: the metadata of a key (by key id, key ARN, alias name or alias ARN).
    public func describeKey(_ request: DescribeKeyRequest) async throws -> DescribeKeyResponse {
        try await send(request)
    }

    /// `ListKeys`: one page of the account's keys in the region.
    public func listKeys(_ request: ListKeysRequest = ListKeysRequest()) async throws -> ListKeysResponse {
        try await send(request)
    }

    /// `CreateAlias`: creates an alias of a key.
    public func createAlias(_ request: CreateAliasRequest) async throws {
        _ = try await send(request)
    }

    /// `UpdateAlias`: points an alias at another key.
    public func updateAlias(_ request: UpdateAliasRequest) async throws {
        _ = try await send(request)
    }

    /// `DeleteAlias`: deletes an alias.
    public func deleteAlias(_ request: DeleteAliasRequest) async throws {
        _ = try await send(request)
    }

    /// `ListAliases`: one page of aliases, of the account or of one key.
    public func listAliases(_ request: ListAliasesRequest = ListAliasesRequest()) async throws -> ListAliasesResponse {
        try await send(request)
    }

    /// `Encrypt`: encrypts up to 4096 bytes under a key.
    public func encrypt(_ request: EncryptRequest) async throws -> EncryptResponse {
        try await send(request)
    }

    /// `Decrypt`: decrypts a ciphertext blob.
    public func decrypt(_ request: DecryptRequest) async throws -> DecryptResponse {
        try await send(request)
    }

    /// `ReEncrypt`: decrypts and encrypts again under another key (or context) inside KMS.
    public func reEncrypt(_ request: ReEncryptRequest) async throws -> ReEncryptResponse {
        try await send(request)
    }

    /// `GenerateDataKey`: a data key in plaintext and encrypted under a key.
    public func generateDataKey(_ request: GenerateDataKeyRequest) async throws -> GenerateDataKeyResponse {
        try await send(request)
    }

    /// `GenerateDataKeyWithoutPlaintext`: a data key encrypted under a key only.
    public func generateDataKeyWithoutPlaintext(
        _ request: GenerateDataKeyWithoutPlaintextRequest
    ) async throws -> GenerateDataKeyWithoutPlaintextResponse {
        try await send(request)
    }

    /// `GenerateRandom`: random bytes.
    public func generateRandom(_ request: GenerateRandomRequest) async throws -> GenerateRandomResponse {
        try await send(request)
    }

    /// `EnableKey`.
    public func enableKey(_ request: EnableKeyRequest) async throws {
        _ = try await send(request)
    }

    /// `DisableKey`.
    public func disableKey(_ request: DisableKeyRequest) async throws {
        _ = try await send(request)
    }

    /// `EnableKeyRotation`.
    public func enableKeyRotation(_ request: EnableKeyRotationRequest) async throws {
        _ = try await send(request)
    }

    /// `DisableKeyRotation`.
    public func disableKeyRotation(_ request: DisableKeyRotationRequest) async throws {
        _ = try await send(request)
    }

    /// `GetKeyRotationStatus`.
    public func getKeyRotationStatus(
        _ request: GetKeyRotationStatusRequest
    ) async throws -> GetKeyRotationStatusResponse {
        try await send(request)
    }

    /// `RotateKeyOnDemand`: rotates a key's material now.
    public func rotateKeyOnDemand(_ request: RotateKeyOnDemandRequest) async throws -> KeyIdResponse {
        try await send(request)
    }

    /// `ScheduleKeyDeletion`: deletes a key after a waiting period.
    public func scheduleKeyDeletion(_ request: ScheduleKeyDeletionRequest) async throws -> ScheduleKeyDeletionResponse {
        try await send(request)
    }

    /// `CancelKeyDeletion`: cancels a scheduled deletion (the key stays disabled).
    public func cancelKeyDeletion(_ request: CancelKeyDeletionRequest) async throws -> KeyIdResponse {
        try await send(request)
    }

    /// `GetKeyPolicy`.
    public func getKeyPolicy(_ request: GetKeyPolicyRequest) async throws -> GetKeyPolicyResponse {
        try await send(request)
    }

    /// `PutKeyPolicy`.
    public func putKeyPolicy(_ request: PutKeyPolicyRequest) async throws {
        _ = try await send(request)
    }

    /// `TagResource`.
    public func tagResource(_ request: TagResourceRequest) async throws {
        _ = try await send(request)
    }

    /// `UntagResource`.
    public func untagResource(_ request: UntagResourceRequest) async throws {
        _ = try await send(request)
    }

    /// `ListResourceTags`.
    public func listResourceTags(_ request: ListResourceTagsRequest) async throws -> ListResourceTagsResponse {
        try await send(request)
    }
}
