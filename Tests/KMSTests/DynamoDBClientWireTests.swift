import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// The DynamoDB client's wire format and error handling against a scripted server: JSON 1.0, the target header,
/// SigV4 for `dynamodb`, cancellation reasons, which errors are retried, and answers that are not valid.
struct DynamoDBClientWireTests {
    static let credentials = StaticCredentialProvider(
        Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")
    )

    func client(
        _ server: ScriptedServer,
        _ options: ClientOptions = ClientOptions(maxAttempts: 1, timeout: .seconds(5))
    ) throws -> DynamoDBClient {
        try DynamoDBClient(
            region: "eu-west-1",
            credentialProvider: Self.credentials,
            endpoint: server.url,
            options: options
        )
    }

    @Test func requestIsJSON10AndSignedForDynamoDB() async throws {
        let server = try ScriptedServer { _, _ in
            .respond(
                status: 200,
                headers: [("Content-Type", "application/x-amz-json-1.0")],
                body: Array(#"{"Item":{"branch-key-id":{"S":"a"},"enc":{"B":"AAEC"},"hierarchy-version":{"N":"1"}}}"#.utf8)
            )
        }
        defer { server.stop() }
        let response = try await client(server).getItem(
            DynamoDBGetItemRequest(
                tableName: "keys",
                key: ["branch-key-id": .string("a"), "type": .string("branch:ACTIVE")],
                consistentRead: true
            )
        )
        #expect(response.item?["enc"] == .binary(Data([0, 1, 2])))
        #expect(response.item?["hierarchy-version"] == .number("1"))
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.path == "/")
        #expect(request.header("X-Amz-Target") == "DynamoDB_20120810.GetItem")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.0")
        let authorization = try #require(request.header("Authorization"))
        #expect(authorization.contains("/eu-west-1/dynamodb/aws4_request"))
        #expect(!authorization.contains("secret"))
        let json = try #require(request.json)
        #expect(json["TableName"] as? String == "keys")
        #expect(json["ConsistentRead"] as? Bool == true)
        #expect((json["Key"] as? [String: Any])?["type"] as? [String: String] == ["S": "branch:ACTIVE"])
    }

    @Test func cancelledTransactionKeepsItsReasons() async throws {
        let body = #"""
            {"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
             "Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
             "CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]}
            """#
        let server = try ScriptedServer { _, _ in .json(400, body) }
        defer { server.stop() }
        do {
            _ = try await client(server).transactWriteItems(.init(transactItems: []))
            Issue.record("a cancelled transaction succeeded")
        } catch let error as DynamoDBError {
            #expect(error.code == .transactionCanceledException)
            #expect(error.cancellationReasons.map(\.code) == ["None", "ConditionalCheckFailed"])
            #expect(error.cancellationReasons.last?.message == "The conditional request failed")
            #expect(error.isConditionFailure)
            #expect(error.message.hasPrefix("Transaction cancelled"))
        }
        #expect(server.requests.count == 1, "a cancelled transaction is not retried")
    }

    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let server = try ScriptedServer { index, _ in
            switch index {
            case 0:
                .json(
                    400,
                    #"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"x"}"#
                )
            case 1: .json(500, #"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}"#)
            case 2: .json(400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"}"#)
            default: .json(200, #"{"TableNames":["keys"]}"#)
            }
        }
        defer { server.stop() }
        let options = ClientOptions(maxAttempts: 4, baseBackoff: .milliseconds(1), timeout: .seconds(5))
        let response = try await client(server, options).listTables()
        #expect(response.tableNames == ["keys"])
        #expect(server.requests.count == 4)
    }

    @Test func errorsWithoutTheJSONShape() async throws {
        let server = try ScriptedServer { index, _ in
            switch index {
            case 0:
                .xml(
                    403,
                    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>"
                )
            case 1: .respond(status: 400, headers: [("X-Amzn-ErrorType", "ValidationException:http://x/")], body: [])
            case 2: .respond(status: 502, body: Array("<html>bad gateway</html>".utf8))
            default: .json(200, #"{"Table": 7}"#)
            }
        }
        defer { server.stop() }
        let dynamoDB = try client(server)
        do {
            _ = try await dynamoDB.listTables()
            Issue.record("no error")
        } catch let error as DynamoDBError {
            #expect(error == .accessDenied && error.message == "not authorized" && error.statusCode == 403)
        }
        await #expect(throws: DynamoDBError.validation) { _ = try await dynamoDB.listTables() }
        do {
            _ = try await dynamoDB.listTables()
            Issue.record("no error")
        } catch let error as DynamoDBError {
            #expect(error.code == .unknownError && error.statusCode == 502 && error.isRetryable)
            #expect(error.message.contains("bad gateway"))
        }
        await #expect(throws: ClientError(.malformedResponse, "")) {
            _ = try await dynamoDB.describeTable(.init(tableName: "keys"))
        }
    }

    @Test func errorShapeRoundTrips() throws {
        let error = DynamoDBError(
            code: .transactionCanceledException,
            message: "cancelled",
            cancellationReasons: [.init(code: "None"), .init(code: "ConditionalCheckFailed")]
        )
        let decoded = DynamoDBError(error.shape, statusCode: 400)
        #expect(decoded == error && decoded.cancellationReasons == error.cancellationReasons)
        #expect(decoded.message == "cancelled")
        #expect(DynamoDBError(code: .internalServerError).statusCode == 500)
    }

    @Test func configurationResolvesTheDynamoDBEndpoint() throws {
        let base = ["AWS_REGION": "eu-west-1", "HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"]
        let byDefault = try AWSConfiguration.resolve(environment: base)
        #expect(byDefault.dynamoDBEndpoint.absoluteString == "https://dynamodb.eu-west-1.amazonaws.com")
        let specific = try AWSConfiguration.resolve(
            environment: base.merging(
                ["AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2"]
            ) { a, _ in a }
        )
        #expect(specific.dynamoDBEndpoint.absoluteString == "http://ddb:2")
        #expect(specific.kmsEndpoint.absoluteString == "http://all:1")
        let client = try DynamoDBClient(configuration: specific)
        #expect(client.endpoint.absoluteString == "http://ddb:2" && client.region == "eu-west-1")
    }
}
