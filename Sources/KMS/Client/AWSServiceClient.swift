public import AsyncHTTPClient
public import Foundation
public import Logging

/// A client of one AWS service on the shared transport (``KMSClient``, ``STSClient``, ``DynamoDBClient``,
/// ``IAMClient``, ``S3Client``): made from a region, credentials and an endpoint, or from a resolved
/// ``AWSConfiguration``.
public protocol AWSServiceClient: Sendable {
    /// The service's endpoint in a resolved configuration.
    static func endpoint(in configuration: AWSConfiguration) -> URL

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: The region to sign for (IAM signs for its partition's region whatever this says).
    ///   - credentialProvider: Where each request's credentials come from.
    ///   - endpoint: The service URL; the service's public endpoint in `region` when `nil`.
    ///   - httpClient: The HTTP client to send with; when `nil`, one process-wide client shared by every client, which
    ///     needs no shutdown. A client passed in stays the caller's to shut down.
    ///   - options: Retries, timeout and response limits.
    ///   - logger: Where retries are logged (at debug level); nothing is logged when `nil`.
    /// - Throws: ``ClientError`` `invalidConfiguration` when the endpoint is not an http(s) URL.
    init(
        region: String,
        credentialProvider: any CredentialProvider,
        endpoint: URL?,
        httpClient: HTTPClient?,
        options: ClientOptions,
        logger: Logger?
    ) throws(ClientError)
}

extension AWSServiceClient {
    /// Creates a client from a resolved configuration: its region, credentials and this service's endpoint.
    ///
    /// - Parameters:
    ///   - configuration: The resolved configuration.
    ///   - httpClient: The HTTP client to send with; `nil` for the shared one.
    ///   - options: Retries, timeout and response limits.
    ///   - logger: Where retries are logged.
    public init(
        configuration: AWSConfiguration,
        httpClient: HTTPClient? = nil,
        options: ClientOptions = ClientOptions(),
        logger: Logger? = nil
    ) throws(ClientError) {
        try self.init(
            region: configuration.region,
            credentialProvider: configuration.credentialProvider,
            endpoint: Self.endpoint(in: configuration),
            httpClient: httpClient,
            options: options,
            logger: logger
        )
    }
}
