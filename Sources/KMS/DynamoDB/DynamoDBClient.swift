public import AsyncHTTPClient
public import Foundation
public import Logging

/// What a branch keystore needs of DynamoDB: one generic call per operation of the JSON 1.0 protocol.
///
/// ``DynamoDBClient`` sends it over HTTP; the platform also serves its own tables in process through it.
/// Service errors are ``DynamoDBError``s.
public protocol DynamoDBAPI: Sendable {
    /// Sends a DynamoDB request and returns its response.
    func send<Request: DynamoDBRequest>(_ request: Request) async throws -> Request.Response
}

/// A client of Amazon DynamoDB, or of any service that speaks its JSON 1.0 protocol (moto, `sealed serve`).
///
/// Each call is a `POST /` of the operation's JSON input with `X-Amz-Target: DynamoDB_20120810.<Operation>` and
/// `Content-Type: application/x-amz-json-1.0`, signed with SigV4 for the service `dynamodb`, on the KMS client's
/// transport: the same bounded retries with backoff and jitter (throttling, HTTP 5xx, timeouts, connection
/// failures), per-attempt timeout, response size limit and shared `HTTPClient`. The service's own errors are
/// ``DynamoDBError``s (a cancelled transaction keeps its per-entry reasons); failures to reach it or to read its
/// answer are ``ClientError``s.
///
/// ```swift
/// let dynamoDB = try DynamoDBClient(configuration: try AWSConfiguration.resolve())
/// let item = try await dynamoDB.getItem(.init(tableName: "keys", key: ["branch-key-id": .string("a"), …]))
/// ```
public struct DynamoDBClient: DynamoDBAPI, AWSServiceClient {
    let transport: Transport

    public static func endpoint(in configuration: AWSConfiguration) -> URL { configuration.dynamoDBEndpoint }

    /// The endpoint requests go to.
    public var endpoint: URL { transport.endpoint }
    /// The region requests are signed for.
    public var region: String { transport.region }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: The region to sign for, such as `us-east-1`.
    ///   - credentialProvider: Where each request's credentials come from.
    ///   - endpoint: The service URL; `https://dynamodb.<region>.amazonaws.com` when `nil`.
    ///   - httpClient: The HTTP client to send with; when `nil`, the process-wide client the KMS and STS clients
    ///     share, which needs no shutdown. A client passed in stays the caller's to shut down.
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
            endpoint: endpoint ?? AWSConfiguration.defaultEndpoint(service: "dynamodb", region: region),
            region: region,
            service: "dynamodb",
            credentialProvider: credentialProvider,
            options: options,
            logger: logger ?? .noop
        )
    }


    /// Sends any DynamoDB request and decodes its response.
    ///
    /// - Parameter request: The operation's input.
    /// - Returns: The operation's output.
    /// - Throws: ``DynamoDBError`` for errors the service returns; ``ClientError`` when it cannot be reached or its
    ///   answer cannot be read.
    public func send<Request: DynamoDBRequest>(_ request: Request) async throws -> Request.Response {
        let body: [UInt8]
        do {
            body = Array(try AWSJSON.encoder().encode(request))
        } catch {
            throw ClientError(.invalidRequest, "could not encode \(Request.operation) input: \(error)")
        }
        let operation = Request.operation
        return try await transport.sendJSON(
            operation: operation.rawValue,
            target: operation.target,
            contentType: DynamoDBJSON.contentType,
            body: body,
            as: Request.Response.self,
            error: Self.error(from:)
        )
    }

    /// Decodes an error response: the JSON 1.0 error shape (with `CancellationReasons`), else an XML error body or
    /// the `X-Amzn-ErrorType` header, else ``DynamoDBError/Code/unknownError`` with the status and an excerpt.
    ///
    /// The query-protocol code `AccessDenied` (what moto's IAM enforcement sends) becomes `AccessDeniedException`.
    static func error(from response: RawResponse) -> DynamoDBError {
        if let shape = try? AWSJSON.decoder().decode(DynamoDBErrorShape.self, from: Data(response.body)),
            !shape.code.isEmpty
        {
            return DynamoDBError(shape, statusCode: response.status).normalized
        }
        let parsed = ErrorBody(response)
        guard let code = parsed.code else {
            let excerpt = ErrorBody.excerpt(response.body)
            return DynamoDBError(
                code: .unknownError,
                message: "HTTP \(response.status) without an AWS error code" + (excerpt.isEmpty ? "" : ": \(excerpt)"),
                statusCode: response.status
            )
        }
        return DynamoDBError(
            code: DynamoDBError.Code(rawValue: code),
            message: parsed.message ?? "",
            statusCode: response.status
        ).normalized
    }
}

extension DynamoDBError {
    /// `AccessDenied` (query protocol) spelled as DynamoDB spells it.
    fileprivate var normalized: DynamoDBError {
        guard code.rawValue == "AccessDenied" else { return self }
        return DynamoDBError(
            code: .accessDeniedException,
            message: message,
            statusCode: statusCode,
            cancellationReasons: cancellationReasons
        )
    }
}

extension DynamoDBClient {
    /// `CreateTable`: creates a table.
    public func createTable(_ request: DynamoDBCreateTableRequest) async throws -> DynamoDBCreateTableResponse {
        try await send(request)
    }

    /// `DescribeTable`: a table's description; ``DynamoDBError`` `ResourceNotFoundException` when there is none.
    public func describeTable(_ request: DynamoDBDescribeTableRequest) async throws -> DynamoDBDescribeTableResponse {
        try await send(request)
    }

    /// `DeleteTable`: deletes a table and its items.
    public func deleteTable(_ request: DynamoDBDeleteTableRequest) async throws -> DynamoDBDeleteTableResponse {
        try await send(request)
    }

    /// `ListTables`: one page of table names.
    public func listTables(
        _ request: DynamoDBListTablesRequest = DynamoDBListTablesRequest()
    ) async throws -> DynamoDBListTablesResponse {
        try await send(request)
    }

    /// `GetItem`: the item with a key, if any.
    public func getItem(_ request: DynamoDBGetItemRequest) async throws -> DynamoDBGetItemResponse {
        try await send(request)
    }

    /// `PutItem`: writes an item, optionally under a condition.
    public func putItem(_ request: DynamoDBPutItemRequest) async throws -> DynamoDBPutItemResponse {
        try await send(request)
    }

    /// `DeleteItem`: deletes the item with a key, optionally under a condition.
    public func deleteItem(_ request: DynamoDBDeleteItemRequest) async throws -> DynamoDBDeleteItemResponse {
        try await send(request)
    }

    /// `Query`: one page of the items of a partition.
    public func query(_ request: DynamoDBQueryRequest) async throws -> DynamoDBQueryResponse {
        try await send(request)
    }

    /// `TransactWriteItems`: puts, deletes and condition checks that succeed or fail together.
    public func transactWriteItems(
        _ request: DynamoDBTransactWriteItemsRequest
    ) async throws -> DynamoDBTransactWriteItemsResponse {
        try await send(request)
    }
}
