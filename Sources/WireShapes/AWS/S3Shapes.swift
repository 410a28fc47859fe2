public import Foundation
import SealedSupport

/// One object of an S3 listing.
public struct S3Object: Sendable, Hashable {
    public var key: String
    public var size: Int
    public var eTag: String?
    public var lastModified: Date?

    public init(key: String, size: Int, eTag: String? = nil, lastModified: Date? = nil) {
        self.key = key
        self.size = size
        self.eTag = eTag
        self.lastModified = lastModified
    }
}

/// One page of `ListObjectsV2`: its objects, in key order, and the token of the next page.
public struct S3ObjectPage: Sendable, Hashable {
    public var objects: [S3Object]
    /// `nil` on the last page.
    public var nextContinuationToken: String?

    public init(objects: [S3Object], nextContinuationToken: String?) {
        self.objects = objects
        self.nextContinuationToken = nextContinuationToken
    }
}

/// An error returned by Amazon S3 (or a compatible store): the `<Code>` and `<Message>` of its XML error and the
/// HTTP status. Errors compare by ``code`` alone.
public struct S3Error: AWSServiceError, Hashable {
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let noSuchBucket: Code = "NoSuchBucket"
        public static let noSuchKey: Code = "NoSuchKey"
        public static let accessDenied: Code = "AccessDenied"
        public static let slowDown: Code = "SlowDown"
        public static let bucketAlreadyOwnedByYou: Code = "BucketAlreadyOwnedByYou"
        public static let unknownError: Code = "UnknownError"
    }

    public let code: Code
    public let message: String
    public let statusCode: Int

    public init(code: Code, message: String = "", statusCode: Int = 400) {
        self.code = code
        self.message = message
        self.statusCode = statusCode
    }

    public static let retryableCodes: Set<Code> = [.slowDown]
}

extension S3Error: CodedError {}
