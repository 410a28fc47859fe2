import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// The S3 client against moto with IAM enforced: a bucket, objects with keys that need encoding, listing by prefix
/// across pages and after a key, reads, and typed errors.
struct S3ClientMotoTests {
    static func s3(_ moto: Moto, _ user: Moto.User? = nil) throws -> S3Client {
        try S3Client(
            region: moto.region,
            credentialProvider: StaticCredentialProvider((user ?? moto.iamAdmin).credentials),
            endpoint: moto.endpointURL,
            options: Moto.options
        )
    }

    @Test func writeListAndReadCloudTrailShapedKeys() async throws {
        guard let moto = try Moto.located() else { return }
        let s3 = try Self.s3(moto)
        let bucket = "sealed-trail-\(UUID().uuidString.prefix(8).lowercased())"
        try await s3.createBucket(bucket)
        let prefix = "AWSLogs/\(moto.account)/CloudTrail/us-east-1/2026/12/05/"
        var keys: [String] = []
        for index in 0..<5 {
            let key = prefix + "\(moto.account)_CloudTrail_us-east-1_20261205T01\(index)0Z_a b+c=\(index).json.gz"
            try await s3.putObject(bucket: bucket, key: key, body: Array("object \(index)".utf8))
            keys.append(key)
        }
        try await s3.putObject(bucket: bucket, key: "elsewhere/x", body: [1])

        #expect(try await s3.allObjects(bucket: bucket, prefix: prefix).map(\.key) == keys)
        let first = try await s3.listObjects(bucket: bucket, prefix: prefix, maxKeys: 2)
        #expect(first.objects.map(\.key) == Array(keys[0..<2]))
        let token = try #require(first.nextContinuationToken)
        let second = try await s3.listObjects(bucket: bucket, prefix: prefix, continuationToken: token, maxKeys: 2)
        #expect(second.objects.map(\.key) == Array(keys[2..<4]))
        #expect(try await s3.allObjects(bucket: bucket, prefix: prefix, startAfter: keys[2]).map(\.key) == Array(keys[3...]))
        #expect(first.objects.first?.size == 8)

        #expect(try await s3.getObject(bucket: bucket, key: keys[4]) == Array("object 4".utf8))
        await #expect(throws: S3Error(code: .noSuchKey)) { try await s3.getObject(bucket: bucket, key: prefix + "missing") }
        await #expect(throws: S3Error(code: .noSuchBucket)) { try await s3.listObjects(bucket: bucket + "-missing") }
        await #expect(throws: S3Error(code: .accessDenied)) {
            try await Self.s3(moto, moto.denied).getObject(bucket: bucket, key: keys[0])
        }
    }
}
