import Foundation
import Testing

@testable import AuditTrail

/// The canonical bytes and chain hashes of fixed records and a digest, captured before the audit trail moved onto the
/// package's one JSON value type: trails written by earlier versions must still verify.
@Suite struct CanonicalBytesStabilityTests {
    /// Free-form members with unsorted keys, non-ASCII keys and every kind of number the canonical form rewrites.
    static let parameters = #"""
        {"z":1,"a":{"y":2.0,"b":[0.1,-0.0,1e300,1E2,12345678901234567890,-5,1e-7,9007199254740993.0,3.25]},
         "é":"x\n\"q\"","B":null,"aa":[true,false,{}],"A":-42}
        """#

    static func record() throws -> Record {
        Record(
            eventTime: Date(timeIntervalSince1970: 1_790_000_000.75),
            eventSource: .kms,
            eventName: "Decrypt",
            awsRegion: "eu-west-1",
            userIdentity: .assumedRole(
                roleName: "reader",
                sessionName: "s1",
                accountId: "000000000000",
                roleId: "AROA1",
                accessKeyId: "ASIA1"
            ),
            sourceIPAddress: "10.0.0.1",
            userAgent: "test/1",
            requestParameters: try CanonicalJSON.parse(Array(parameters.utf8)),
            responseElements: ["keyId": "k", "count": 3, "ratio": 0.5, "whole": 2.0],
            errorCode: "AccessDeniedException",
            errorMessage: "no",
            requestID: "r-1",
            eventID: "e-1",
            readOnly: true,
            resources: [.kmsKey(arn: "arn:aws:kms:eu-west-1:000000000000:key/k")],
            recipientAccountId: "000000000000",
            additionalEventData: ["auditPhase": "Intent", "n": [1, 2.5]]
        )
    }

    static let expectedBytes = [
        #"{"additionalEventData":{"auditPhase":"Intent","n":[1,2.5]},"awsRegion":"eu-west-1","errorCode":""#,
        #"AccessDeniedException","errorMessage":"no","eventID":"e-1","eventName":"Decrypt","eventSource":""#,
        #"kms.amazonaws.com","eventTime":"2026-09-21T14:13:20Z","eventType":"AwsApiCall","eventVersion":"1"#,
        #".08","previousHash":"6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d","readOnly"#,
        #"":true,"recipientAccountId":"000000000000","requestID":"r-1","requestParameters":{"A":-42,"B":nu"#,
        #"ll,"a":{"b":[0.1,0,1e+300,100,1.2345678901234567e+19,-5,1e-07,9007199254740992.0,3.25],"y":2},"a"#,
        #"a":[true,false,{}],"z":1,"é":"x\n\"q\""},"resources":[{"ARN":"arn:aws:kms:eu-west-1:000000000000"#,
        #":key/k","accountId":"000000000000","type":"AWS::KMS::Key"}],"responseElements":{"count":3,"keyId"#,
        #"":"k","ratio":0.5,"whole":2},"sequenceNumber":42,"sourceIPAddress":"10.0.0.1","userAgent":"test/"#,
        #"1","userIdentity":{"accessKeyId":"ASIA1","accountId":"000000000000","arn":"arn:aws:sts::00000000"#,
        #"0000:assumed-role/reader/s1","principalId":"AROA1:s1","sessionContext":{"sessionIssuer":{"accoun"#,
        #"tId":"000000000000","arn":"arn:aws:iam::000000000000:role/reader","principalId":"AROA1","type":""#,
        #"Role","userName":"reader"},"sessionName":"s1"},"type":"AssumedRole"}}"#,
    ].joined()
    static let expectedHash = "447f96b8e3c3b27d38f838e7a1ce61cdaae66f0476260ed56cd3cd74a96f8950"
    static let expectedDigest = [
        #"{"digestSequence":3,"format":"sealed-events-audit-digest/1","headHash":"9f2e6d33a3717ee826353a40"#,
        #"4ba4618d1aeeb6879ad7936bce8ed5f46814924d","headSequence":9007199254740993,"keyFingerprint":"ab","#,
        #""previousSignature":"AQID","recordCount":7,"time":"2026-09-21T14:13:20Z"}"#,
    ].joined()

    @Test func chainedBytesAndHashAreTheOnesEarlierVersionsWrote() throws {
        let record = try Self.record()
        let previous = ChainHash.of(Array("previous".utf8))
        let bytes = ChainedRecordEncoder.canonicalBytes(of: record, sequence: 42, previousHash: previous)
        #expect(String(decoding: bytes, as: UTF8.self) == Self.expectedBytes)
        #expect(ChainHash.of(bytes).hex == Self.expectedHash)
        let stored = try StoredRecord(canonicalBytes: bytes)
        #expect(stored.record == record)
        #expect(stored.hash == ChainHash.of(bytes))
    }

    @Test func digestBytesAreTheOnesEarlierVersionsSigned() throws {
        var digest = Digest(
            digestSequence: 3,
            head: ChainHead(sequence: 9_007_199_254_740_993, hash: ChainHash.of(Array("head".utf8))),
            time: Date(timeIntervalSince1970: 1_790_000_000),
            previousSignature: Data([1, 2, 3]),
            keyFingerprint: "ab"
        )
        digest.recordCount = 7
        #expect(String(decoding: digest.signedBytes, as: UTF8.self) == Self.expectedDigest)
        let signed = SignedDigest(digest: digest, signature: Data([4, 5]))
        #expect(try SignedDigest(jsonValue: CanonicalJSON.parse(CanonicalJSON.encode(signed.jsonValue))) == signed)
    }
}
