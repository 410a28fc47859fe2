import Foundation
import Testing

@testable import AuditTrail

@Suite struct RecordTests {
    @Test func kmsRecordsKeepNoPlaintextOrBlobs() throws {
        let record = Record.kms(
            operation: "Encrypt",
            request: [
                "KeyId": "alias/payments", "Plaintext": "c2VjcmV0LXBsYWludGV4dA==", "GrantTokens": ["t"],
                "EncryptionContext": ["eventType": "payments.card.captured"],
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "SomeFutureMember": "?",
            ],
            keyARN: Samples.keyARN,
            userIdentity: .iamUser(name: "checkout", accountId: Samples.account),
            eventTime: Samples.baseTime,
            awsRegion: "us-east-1",
            recipientAccountId: Samples.account,
            requestID: "r1"
        )
        #expect(
            record.requestParameters == [
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "encryptionContext": ["eventType": "payments.card.captured"], "keyId": "alias/payments",
            ]
        )
        let text = String(decoding: CanonicalJSON.encode(record.jsonValue), as: UTF8.self)
        #expect(!text.contains("c2VjcmV0"))
        #expect(!text.contains("Plaintext") && !text.contains("plaintext"))
        #expect(record.readOnly)
        #expect(record.resources == [Resource(arn: Samples.keyARN, type: "AWS::KMS::Key", accountId: Samples.account)])
        #expect(Samples.decrypt(1).requestParameters?["ciphertextBlob"] == nil)
    }

    @Test func jsonUsesCloudTrailMemberNames() throws {
        let record = Samples.decrypt(7, errorCode: "AccessDeniedException")
        guard case .object(let object) = record.jsonValue else {
            Issue.record("not an object")
            return
        }
        #expect(
            Set(object.keys) == [
                "eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "userIdentity", "sourceIPAddress",
                "userAgent", "requestParameters", "errorCode", "errorMessage", "requestID", "eventID", "readOnly",
                "resources", "eventType", "recipientAccountId",
            ]
        )
        #expect(object["eventVersion"] == "1.08")
        #expect(object["eventTime"] == "2026-11-18T11:06:47Z")
        #expect(object["eventSource"] == "kms.amazonaws.com")
        #expect(object["eventType"] == "AwsApiCall")
        #expect(record.jsonValue["userIdentity"]?["type"] == "AssumedRole")
        #expect(
            record.jsonValue["userIdentity"]?["sessionContext"]?["sessionIssuer"]
                == [
                    "accountId": "000000000000",
                    "arn": "arn:aws:iam::000000000000:role/reader-payments.card.captured",
                    "principalId": "AROAEXAMPLE", "type": "Role", "userName": "reader-payments.card.captured",
                ]
        )
        #expect(
            record.jsonValue["resources"] == [
                ["ARN": .string(Samples.keyARN), "accountId": "000000000000", "type": "AWS::KMS::Key"]
            ]
        )
    }

    @Test func recordsKeepTheirFreeFormMembersInCanonicalForm() throws {
        var record = Samples.userCall(1)
        record.requestParameters = ["z": 2.0, "a": ["y": 1, "b": -0.0]]
        record.responseElements = ["count": 3.0]
        record.additionalEventData = ["n": [1.50], "auditPhase": "Intent"]
        #expect(record.requestParameters?.serialized() == Array(#"{"a":{"b":0,"y":1},"z":2}"#.utf8))
        #expect(record.responseElements?.serialized() == Array(#"{"count":3}"#.utf8))
        #expect(record.additionalEventData?.serialized() == Array(#"{"auditPhase":"Intent","n":[1.5]}"#.utf8))
        var same = record
        same.requestParameters = ["a": ["b": 0, "y": 1.0], "z": 2]
        same.responseElements = ["count": 3]
        same.additionalEventData = ["auditPhase": "Intent", "n": [1.5]]
        #expect(same == record)
        #expect(same.hashValue == record.hashValue)
        let built = Record(
            eventTime: record.eventTime,
            eventSource: record.eventSource,
            eventName: record.eventName,
            awsRegion: record.awsRegion,
            userIdentity: record.userIdentity,
            requestParameters: ["z": 2.0, "a": ["y": 1, "b": -0.0]],
            responseElements: ["count": 3.0],
            requestID: record.requestID,
            eventID: record.eventID,
            readOnly: record.readOnly,
            resources: record.resources,
            recipientAccountId: record.recipientAccountId,
            additionalEventData: ["n": [1.50], "auditPhase": "Intent"]
        )
        #expect(built == record)
        let bytes = ChainedRecordEncoder.canonicalBytes(of: record, sequence: 1, previousHash: .genesis)
        #expect(try StoredRecord(canonicalBytes: bytes).record == record)
        same.responseElements = ["count": 4]
        #expect(same != record)
    }

    @Test(arguments: [Samples.decrypt(1), Samples.decrypt(2, errorCode: "AccessDeniedException"), Samples.userCall(3)])
    func roundTripsThroughCanonicalBytesAndCodable(record: Record) throws {
        let bytes = ChainedRecordEncoder.canonicalBytes(of: record, sequence: 5, previousHash: .genesis)
        let stored = try StoredRecord(canonicalBytes: bytes)
        #expect(stored.record == record)
        #expect(stored.sequence == 5)
        #expect(stored.previousHash == .genesis)
        #expect(stored.hash == ChainHash.of(bytes))
        let decoded = try JSONDecoder().decode(Record.self, from: JSONEncoder().encode(record))
        #expect(decoded == record)
    }

    @Test(arguments: [
        "arn:aws:kms:us-east-1:000000000000:key/6f1c0a4e-1111-4222-8333-944445555666", "arn:aws:kms:us-east-1:1:",
        "arn:aws:kms:us-east-1:000000000000", "arn:aws:kms:us-east-1", "", "::::::", "arn:aws:s3:::bucket:a:b",
    ])
    func kmsKeyResourcesTakeTheAccountFromTheARN(arn: String) {
        let fields = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        #expect(Resource.kmsKey(arn: arn).accountId == (fields.count > 4 ? String(fields[4]) : nil))
    }

    @Test func eventTimesAreFormattedAsFoundationFormatsThem() {
        let style = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!)
        var generator = SystemRandomNumberGenerator()
        var seconds: [Double] = [
            0, 59, 60, 86_399, 86_400, 951_782_400, 951_868_799, 951_868_800, 1_795_000_000.75, 4_107_542_399,
            253_402_300_799, 253_402_300_800, -1, -86_401, 1e12,
        ]
        seconds += (0..<2_000).map { _ in Double(Int64.random(in: 0..<253_402_300_800, using: &generator)) }
        for value in seconds {
            let date = Date(timeIntervalSince1970: value)
            #expect(Record.format(date) == date.formatted(style), "\(value)")
        }
    }

    @Test func eventTimeKeepsWholeSeconds() {
        var record = Samples.decrypt(1, time: Date(timeIntervalSince1970: 1_000.75))
        #expect(record.eventTime == Date(timeIntervalSince1970: 1_000))
        record.eventTime = Date(timeIntervalSince1970: 2_000.5)
        #expect(record.eventTime == Date(timeIntervalSince1970: 2_000))
    }

    /// Records with few and many members, escapes, non-ASCII text and role sessions: the writer's three-part merge
    /// must give exactly the canonical encoding of the whole object.
    static let variedRecords: [Record] = {
        var minimal = Samples.userCall(4)
        minimal.requestParameters = nil
        minimal.sourceIPAddress = nil
        minimal.userAgent = nil
        var escaped = Samples.decrypt(7, errorCode: "AccessDeniedException")
        escaped.userAgent = "agent \"quoted\" \\ back\u{1}slash\ttab\nnewline ünïcödé 🔑"
        escaped.errorMessage = "line one\r\nline two\u{8}\u{c}\u{1f}"
        escaped.requestParameters = ["keyId": "alias/\"odd\"", "b": [1, 2.5, true, .null], "a": ["z": "y"]]
        var unknownCaller = Samples.decrypt(8)
        unknownCaller.userIdentity = .unknown(accessKeyId: "AKIAUNKNOWN", accountId: nil)
        unknownCaller.resources = [
            .kmsKey(arn: Samples.keyARN), Resource(arn: "arn:aws:kms:us-east-1:1:alias/x", type: "AWS::KMS::Alias"),
        ]
        unknownCaller.responseElements = .null
        unknownCaller.eventType = .awsServiceEvent
        var bareSession = Samples.decrypt(9)
        bareSession.userIdentity.sessionContext = SessionContext(
            sessionIssuer: SessionIssuer(type: "Role", arn: "arn:aws:iam::0:role/r", accountId: nil, userName: nil),
            sessionName: nil
        )
        var emptySession = Samples.decrypt(10)
        emptySession.userIdentity.sessionContext = SessionContext(sessionIssuer: nil, sessionName: nil)
        emptySession.readOnly = false
        let intent = Samples.userCall(11).intent
        return [
            Samples.userCall(4), Samples.decrypt(1), minimal, escaped, unknownCaller, bareSession, emptySession, intent,
        ]
    }()

    @Test(arguments: variedRecords, [Int64(1), 12, 9_007_199_254_740_993])
    func chainedBytesAreTheCanonicalFormOfTheRecordWithItsChainMembers(record: Record, sequence: Int64) throws {
        let previous = ChainHash.of(Array("previous".utf8))
        let bytes = ChainedRecordEncoder.canonicalBytes(of: record, sequence: sequence, previousHash: previous)
        guard case .object(var members) = record.jsonValue else {
            Issue.record("not an object")
            return
        }
        members["sequenceNumber"] = .number(JSONNumber(sequence))
        members["previousHash"] = .string(previous.hex)
        #expect(bytes == CanonicalJSON.encode(.object(members)))
        #expect(try StoredRecord(canonicalBytes: bytes).record == record)
    }

    @Test(arguments: [
        (
            "arn:aws:kms:us-east-1:000000000000:key/6f1c0a4e-1111-4222-8333-944445555666",
            "6f1c0a4e-1111-4222-8333-944445555666"
        ),
        ("6f1c0a4e-1111-4222-8333-944445555666", "6f1c0a4e-1111-4222-8333-944445555666"),
        ("alias/payments", "alias/payments"),
        ("arn:aws:kms:us-east-1:000000000000:alias/payments", "arn:aws:kms:us-east-1:000000000000:alias/payments"),
        ("key/not-an-arn", "key/not-an-arn"),
        ("", ""),
    ])
    func keysAreIndexedByTheirId(identifier: String, indexed: String) {
        #expect(Record.keyIdentifier(identifier) == indexed)
    }

    @Test(arguments: [
        #"{"eventTime":"2026-01-01T00:00:00Z"}"#,
        #"[]"#,
        #"{"eventVersion":"1.08","eventTime":"yesterday","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","userIdentity":{"type":"Unknown"},"requestID":"r","eventID":"e","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"0"}"#,
        #"{"eventVersion":"1.08","eventTime":"2026-01-01T00:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","userIdentity":{"type":"Unknown"},"requestID":"r","eventID":"e","readOnly":"yes","eventType":"AwsApiCall","recipientAccountId":"0"}"#,
    ])
    func malformedRecordsAreTypedErrors(text: String) {
        #expect(throws: AuditError(.malformedRecord, "")) {
            try Record(jsonValue: CanonicalJSON.parse(Array(text.utf8)))
        }
    }

    @Test func derivedQueryFields() {
        let record = Samples.decrypt(1)
        #expect(record.keyIdentifiers == [Samples.keyID])
        #expect(
            record.principalARNs == [
                "arn:aws:sts::000000000000:assumed-role/reader-payments.card.captured/checkout",
                "arn:aws:iam::000000000000:role/reader-payments.card.captured",
            ]
        )
        #expect(record.contextEventType == "payments.card.captured")
        #expect(!record.isDenial)
        #expect(Samples.decrypt(1, errorCode: "AccessDeniedException").isDenial)
    }
}
