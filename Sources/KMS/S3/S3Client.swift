public import AsyncHTTPClient
public import Foundation
public import Logging
import SealedSupport
import SigV4

extension S3Error: RetryableServiceError {}

/// A client of Amazon S3 (or a compatible store, such as moto or MinIO) for reading delivered log files: listing a
/// prefix and reading objects, plus creating a bucket and writing an object (what tests and tools need).
///
/// Requests use path-style addressing (`https://s3.REGION.amazonaws.com/BUCKET/KEY`, or the configured endpoint):
/// every S3-compatible store serves it and AWS still does. They are signed with SigV4 for `s3` the way S3 wants it:
/// the path encoded once, not normalized, and `x-amz-content-sha256` signed. Retries, timeouts and the response
/// size limit work as for ``KMSClient`` (``ClientOptions/maxResponseBytes`` bounds an object read); the store's
/// errors are ``S3Error``s.
public struct S3Client: AWSServiceClient {
    let transport: Transport

    public static func endpoint(in configuration: AWSConfiguration) -> URL { configuration.s3Endpoint }

    /// The endpoint requests go to.
    public var endpoint: URL { transport.endpoint }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: The region to sign for.
    ///   - credentialProvider: Where each request's credentials come from.
    ///   - endpoint: The service URL; `https://s3.<region>.amazonaws.com` when `nil`.
    ///   - httpClient: The HTTP client; the process-wide shared one when `nil`.
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
            endpoint: endpoint ?? AWSConfiguration.defaultEndpoint(service: "s3", region: region),
            region: region,
            service: "s3",
            credentialProvider: credentialProvider,
            options: options,
            logger: logger ?? .noop,
            signing: Signer.Options(pathCanonicalization: .unnormalized, addsPayloadHashHeader: true)
        )
    }


    /// `ListObjectsV2`: one page of the keys under `prefix`, in key order, after `startAfter` (a key, exclusive) or
    /// from a continuation token.
    public func listObjects(
        bucket: String,
        prefix: String = "",
        startAfter: String? = nil,
        continuationToken: String? = nil,
        maxKeys: Int = 1000
    ) async throws -> S3ObjectPage {
        var query: [(String, String)] = [("list-type", "2"), ("max-keys", String(maxKeys)), ("prefix", prefix)]
        if let startAfter { query.append(("start-after", startAfter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        return try await request("ListObjectsV2", "GET", bucket: bucket, query: query) { response in
            guard let root = XMLTree.parse(response.body), root.name == "ListBucketResult" else {
                throw ClientError(.malformedResponse, "the ListObjectsV2 response is not a ListBucketResult")
            }
            let objects = try root.children.filter { $0.name == "Contents" }.map { item in
                guard let key = item.child("Key")?.text, !key.isEmpty, let size = item.child("Size").flatMap({ Int($0.text) })
                else { throw ClientError(.malformedResponse, "a listed object lacks its Key or Size") }
                return S3Object(
                    key: key,
                    size: size,
                    eTag: item.child("ETag")?.text,
                    lastModified: item.child("LastModified").flatMap { ISO8601.parse($0.text) }
                )
            }
            let truncated = root.child("IsTruncated")?.text == "true"
            let next = truncated ? root.child("NextContinuationToken")?.text : nil
            if truncated, next?.isEmpty ?? true {
                throw ClientError(.malformedResponse, "a truncated listing has no NextContinuationToken")
            }
            return S3ObjectPage(objects: objects, nextContinuationToken: next)
        }
    }

    /// Every key under `prefix` after `startAfter`, all pages.
    public func allObjects(bucket: String, prefix: String = "", startAfter: String? = nil) async throws -> [S3Object] {
        var all: [S3Object] = []
        var token: String?
        repeat {
            let page = try await listObjects(
                bucket: bucket,
                prefix: prefix,
                startAfter: token == nil ? startAfter : nil,
                continuationToken: token
            )
            all += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return all
    }

    /// `GetObject`: an object's bytes.
    ///
    /// - Throws: ``S3Error`` `NoSuchKey`, `NoSuchBucket`, `AccessDenied`; ``ClientError`` (`responseTooLarge` past
    ///   ``ClientOptions/maxResponseBytes``).
    public func getObject(bucket: String, key: String) async throws -> [UInt8] {
        try await request("GetObject", "GET", bucket: bucket, key: key) { $0.body }
    }

    /// `PutObject`: writes an object.
    public func putObject(bucket: String, key: String, body: [UInt8], contentType: String = "application/octet-stream")
        async throws
    {
        try await request("PutObject", "PUT", bucket: bucket, key: key, body: body, headers: [("Content-Type", contentType)]) { _ in }
    }

    /// `CreateBucket` in the client's region (`us-east-1` takes no location constraint).
    public func createBucket(_ bucket: String) async throws {
        let region = transport.region
        let body =
            region == "us-east-1"
            ? []
            : Array(
                ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    + "<LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>").utf8
            )
        try await request("CreateBucket", "PUT", bucket: bucket, body: body) { _ in }
    }

    private func request<Result>(
        _ operation: String,
        _ method: String,
        bucket: String,
        key: String? = nil,
        query: [(String, String)] = [],
        body: [UInt8] = [],
        headers: [(String, String)] = [],
        decode: (RawResponse) throws -> Result
    ) async throws -> Result {
        let base = transport.path.hasSuffix("/") ? String(transport.path.dropLast()) : transport.path
        var path = base + "/" + PercentEncoding.encode(bucket)
        if let key {
            path += "/" + key.split(separator: "/", omittingEmptySubsequences: false).map { PercentEncoding.encode($0) }
                .joined(separator: "/")
        }
        let queryString = query.map { "\(PercentEncoding.encode($0.0))=\(PercentEncoding.encode($0.1))" }
            .joined(separator: "&")
        return try await transport.send(
            operation: operation,
            method: method,
            path: path,
            query: queryString,
            body: body,
            headers: headers.map { (name: $0.0, value: $0.1) }
        ) { response in
            guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
            return try decode(response)
        }
    }

    /// An error without a body (a HEAD's) gets the code its status implies.
    static func error(from response: RawResponse) -> S3Error {
        let implied: S3Error.Code = response.status == 404 ? .noSuchKey : response.status == 403 ? .accessDenied : .unknownError
        return ErrorBody.serviceError(response, unknown: implied)
    }
}
