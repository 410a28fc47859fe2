import AccessControl
import AuditTrail
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SealedServerTesting
import Testing
import WireShapes

/// The DynamoDB endpoint on `POST /` of the platform's server, in process: wire shapes and errors as botocore reads
/// them, authorization by identity policies, and audit records that keep keys and never item values.
struct DynamoDBRouteTests {
    typealias World = AuditedServerTests.World
    static let table = "sealed-branch-keys"
    static let tableARN = "arn:aws:dynamodb:us-east-1:000000000000:table/sealed-branch-keys"
    /// The wrapped key bytes an item carries: must never reach a record.
    static let wrapped = Data("WRAPPED-BRANCH-KEY-MATERIAL".utf8).base64EncodedString()

    static func dynamo(
        _ client: some TestClientProtocol,
        _ keys: PlatformFixture.Keys,
        _ operation: String,
        _ body: [String: Any],
        service: String = "dynamodb",
        contentType: String = DynamoDBJSON.contentType
    ) async throws -> (TestResponse, [String: Any]) {
        let response = try await AuditedServerTests.send(
            client,
            keys,
            target: "DynamoDB_20120810.\(operation)",
            contentType: contentType,
            body: Array(try JSONSerialization.data(withJSONObject: body)),
            service: service
        )
        return (
            response,
            (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        )
    }

    static var createTable: [String: Any] {
        [
            "TableName": table,
            "AttributeDefinitions": [
                ["AttributeName": "branch-key-id", "AttributeType": "S"],
                ["AttributeName": "type", "AttributeType": "S"],
            ],
            "KeySchema": [
                ["AttributeName": "branch-key-id", "KeyType": "HASH"], ["AttributeName": "type", "KeyType": "RANGE"],
            ],
            "BillingMode": "PAY_PER_REQUEST",
        ]
    }

    static func item(_ id: String, _ type: String) -> [String: Any] {
        ["branch-key-id": ["S": id], "type": ["S": type], "enc": ["B": wrapped], "hierarchy-version": ["N": "1"]]
    }

    static var notExists: [String: Any] {
        [
            "ConditionExpression": "attribute_not_exists(#b)", "ExpressionAttributeNames": ["#b": "branch-key-id"],
        ]
    }

    @Test func itemsTransactionsAndErrorsOnTheWire() async throws {
        let world = try await World()
        try await world.fixture.test { client in
            let admin = world.admin
            let (created, description) = try await Self.dynamo(client, admin, "CreateTable", Self.createTable)
            #expect(created.status == .ok)
            #expect(created.headers[.contentType] == DynamoDBJSON.contentType)
            #expect((description["TableDescription"] as? [String: Any])?["TableArn"] as? String == Self.tableARN)

            var put = Self.notExists
            put["TableName"] = Self.table
            put["Item"] = Self.item("k", "branch:ACTIVE")
            #expect(try await Self.dynamo(client, admin, "PutItem", put).0.status == .ok)
            let (failed, failure) = try await Self.dynamo(client, admin, "PutItem", put)
            #expect(failed.status == .badRequest)
            #expect(failure["__type"] as? String == "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException")
            #expect(failure["message"] as? String == "The conditional request failed")

            let key: [String: Any] = ["branch-key-id": ["S": "k"], "type": ["S": "branch:ACTIVE"]]
            let (_, got) = try await Self.dynamo(
                client,
                admin,
                "GetItem",
                ["TableName": Self.table, "Key": key, "ConsistentRead": true]
            )
            let item = try #require(got["Item"] as? [String: Any])
            #expect((item["enc"] as? [String: String])?["B"] == Self.wrapped)

            var first = Self.notExists
            first["TableName"] = Self.table
            first["Item"] = Self.item("k", "branch:version:1")
            var second = put
            second["Item"] = Self.item("k", "branch:ACTIVE")
            let (cancelled, reasons) = try await Self.dynamo(
                client,
                admin,
                "TransactWriteItems",
                ["TransactItems": [["Put": first], ["Put": second]]]
            )
            #expect(cancelled.status == .badRequest)
            #expect(reasons["__type"] as? String == "com.amazonaws.dynamodb.v20120810#TransactionCanceledException")
            let codes = (reasons["CancellationReasons"] as? [[String: Any]])?.map { $0["Code"] as? String }
            #expect(codes == ["None", "ConditionalCheckFailed"])

            let (unknown, unknownBody) = try await Self.dynamo(client, admin, "Scan", ["TableName": Self.table])
            #expect(unknown.status == .badRequest)
            #expect(unknownBody["__type"] as? String == "com.amazonaws.dynamodb.v20120810#UnknownOperationException")
            let (missing, missingBody) = try await Self.dynamo(client, admin, "GetItem", ["Key": key])
            #expect(missing.status == .badRequest)
            #expect(
                missingBody["message"] as? String
                    == "1 validation error detected: Value 'null' at 'tableName' failed to satisfy constraint: Member must not be null"
            )
            let (json11, json11Body) = try await Self.dynamo(
                client,
                admin,
                "GetItem",
                ["TableName": Self.table, "Key": key],
                contentType: AWSJSON.contentType
            )
            #expect(json11.status == .badRequest)
            #expect(json11Body["__type"] as? String == "com.amazonaws.dynamodb.v20120810#SerializationException")
            // A DynamoDB call signed for KMS is refused, as AWS refuses a credential scoped to another service.
            let (scoped, scopedBody) = try await Self.dynamo(
                client,
                admin,
                "GetItem",
                ["TableName": Self.table, "Key": key],
                service: "kms"
            )
            #expect(scoped.status == .badRequest)
            #expect((scopedBody["message"] as? String)?.contains("'dynamodb'") == true)
        }
    }

    /// A member the subset does not read would change the call's meaning if it were skipped: it is refused by name.
    @Test func membersOutsideTheSubsetAreRefusedNotIgnored() async throws {
        let world = try await World()
        try await world.fixture.test { client in
            let admin = world.admin
            _ = try await Self.dynamo(client, admin, "CreateTable", Self.createTable)
            let query: [String: Any] = [
                "TableName": Self.table, "KeyConditionExpression": "#b = :k",
                "ExpressionAttributeNames": ["#b": "branch-key-id"], "ExpressionAttributeValues": [":k": ["S": "k"]],
                "ReturnConsumedCapacity": "TOTAL",
            ]
            #expect(try await Self.dynamo(client, admin, "Query", query).0.status == .ok)
            var indexed = query
            indexed["IndexName"] = "by-type"
            let (refused, body) = try await Self.dynamo(client, admin, "Query", indexed)
            #expect(refused.status == .badRequest)
            #expect(body["message"] as? String == "The parameter IndexName of Query is not supported by this server")
            var legacy: [String: Any] = ["TableName": Self.table, "Item": Self.item("k", "t")]
            legacy["Expected"] = ["enc": ["Exists": false]]
            #expect(try await Self.dynamo(client, admin, "PutItem", legacy).0.status == .badRequest)
            var put: [String: Any] = ["TableName": Self.table, "Item": Self.item("k", "t")]
            put["ReturnValuesOnConditionCheckFailure"] = "NONE"
            #expect(try await Self.dynamo(client, admin, "TransactWriteItems", ["TransactItems": [["Put": put]]]).0.status == .ok)
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            let (entry, entryBody) = try await Self.dynamo(client, admin, "TransactWriteItems", ["TransactItems": [["Put": put]]])
            #expect(entry.status == .badRequest)
            #expect((entryBody["message"] as? String)?.contains("TransactItems.Put") == true)
        }
    }

    @Test func identityPoliciesDecideAndEveryCallIsAuditedWithoutItemValues() async throws {
        let world = try await World()
        try await world.fixture.test { client in
            let admin = world.admin
            _ = try await Self.dynamo(client, admin, "CreateTable", Self.createTable)
            var count = Int(try await world.audit.chainHead().sequence)

            var put = Self.notExists
            put["TableName"] = Self.table
            put["Item"] = Self.item("subject-1", "branch:ACTIVE")
            #expect(try await Self.dynamo(client, admin, "PutItem", put).0.status == .ok)
            let record = try await AuditedServerTests.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventSource.rawValue == "dynamodb.amazonaws.com")
            #expect(record.eventName == "PutItem")
            #expect(!record.readOnly)
            #expect(record.resources.map(\.arn) == [Self.tableARN])
            #expect(record.resources.first?.type == "AWS::DynamoDB::Table")
            let parameters = try #require(record.requestParameters)
            #expect(parameters["key"]?["branch-key-id"]?["S"]?.stringValue == "subject-1")
            #expect(parameters["itemAttributes"] == .array(["branch-key-id", "enc", "hierarchy-version", "type"]))
            let text = String(decoding: CanonicalJSON.encode(record.jsonValue), as: UTF8.self)
            #expect(!text.contains(Self.wrapped))

            // The analyst has no policy on the table: refused, and the refusal is recorded.
            let key: [String: Any] = ["branch-key-id": ["S": "subject-1"], "type": ["S": "branch:ACTIVE"]]
            let (denied, deniedBody) = try await Self.dynamo(
                client,
                world.analyst,
                "GetItem",
                ["TableName": Self.table, "Key": key]
            )
            #expect(denied.status == .badRequest)
            #expect(deniedBody["__type"] as? String == "com.amazonaws.dynamodb.v20120810#AccessDeniedException")
            let refusal = try await AuditedServerTests.onlyNewRecord(world.audit, after: &count)
            #expect(refusal.errorCode == "AccessDeniedException" && refusal.readOnly)

            // Allowed GetItem on this table only.
            let policy = """
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem",
                 "Resource": "\(Self.tableARN)"}]}
                """
            try await world.identities.putUserPolicy("analyst", name: "read-keys", document: policy, by: .platform)
            let (allowed, allowedBody) = try await Self.dynamo(
                client,
                world.analyst,
                "GetItem",
                ["TableName": Self.table, "Key": key]
            )
            #expect(allowed.status == .ok)
            #expect(allowedBody["Item"] != nil)
            let read = try await AuditedServerTests.onlyNewRecord(world.audit, after: &count)
            #expect(read.readOnly && read.errorCode == nil)
            #expect(!String(decoding: CanonicalJSON.encode(read.jsonValue), as: UTF8.self).contains(Self.wrapped))
            var other = put
            other["Item"] = Self.item("subject-2", "branch:ACTIVE")
            let (write, _) = try await Self.dynamo(client, world.analyst, "PutItem", other)
            #expect(write.status == .badRequest)
            // A change is recorded before it is decided: its intent, then the refusal.
            #expect(
                try await AuditedServerTests.onlyNewRecord(world.audit, after: &count).errorCode
                    == "AccessDeniedException"
            )

            // An erasure: the transaction's record names each key deleted.
            let erase: [String: Any] = ["TransactItems": [["Delete": ["TableName": Self.table, "Key": key]]]]
            #expect(try await Self.dynamo(client, admin, "TransactWriteItems", erase).0.status == .ok)
            let erasure = try await AuditedServerTests.onlyNewRecord(world.audit, after: &count)
            #expect(erasure.eventName == "TransactWriteItems")
            let deleted = erasure.requestParameters?["transactItems"]?.arrayValue?.first?["delete"]?["key"]?[
                "branch-key-id"
            ]?["S"]
            #expect(deleted?.stringValue == "subject-1")
        }
    }
}
