import AccessControl
import AuditTrail
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
public import Tables
public import WireShapes

/// The DynamoDB JSON 1.0 endpoint: `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`, signed for the
/// service `dynamodb`.
///
/// The handler checks the content type (`application/x-amz-json-1.0`, else `SerializationException`), finds the
/// operation (`UnknownOperationException` for one the ``Tables/TableService`` does not serve), reads the body strictly
/// (``StrictJSON``: malformed JSON or a member named twice is a `SerializationException`), refuses members the
/// subset does not read (``DynamoDBMembers``), decodes the operation's input shape (`ValidationException` for a missing required member), notes the request's audit parameters (which
/// writes a change's intent record before anything happens, see ``DynamoDBAuditParameters``), and calls the service
/// with the signer's principal. Errors are DynamoDB's (``Tables/TableError``).
public struct DynamoDBRoutes: Sendable {
    /// Decodes a body, notes its audit parameters, calls the service and encodes the output.
    typealias Endpoint =
        @Sendable (_ body: ByteBuffer, _ service: TableService, _ caller: String, _ audit: Audit) async throws
        -> ByteBuffer
    /// Notes a request's audit parameters and the tables it names.
    typealias Audit = @Sendable (_ parameters: JSONValue, _ tables: [String]) async throws -> Void

    let tables: TableService
    let endpoints: [DynamoDBOperation: Endpoint]

    /// The operations the server answers.
    public var operations: Set<DynamoDBOperation> { Set(endpoints.keys) }

    public init(tables: TableService) {
        self.tables = tables
        self.endpoints = Self.table
    }

    /// Whether a request names a DynamoDB operation in its `X-Amz-Target`.
    static func isDynamoDB(_ request: Request) -> Bool {
        request.headers.value(of: .amzTarget)?.hasPrefix("DynamoDB_20120810.") ?? false
    }

    func handle(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard KMSRoutes.hasContentType(request.headers.value(of: .contentType), DynamoDBJSON.contentType) else {
            throw TableError.serialization("Content-Type must be \(DynamoDBJSON.contentType).")
        }
        guard let target = request.headers.value(of: .amzTarget), let operation = DynamoDBOperation(target: target),
            let endpoint = endpoints[operation]
        else {
            throw TableError(.unknownOperation, "The operation is not served by this endpoint.")
        }
        // The SigV4 middleware collected the body within the limit; this reads that buffer again.
        let body = try await request.body.collect(upTo: .max)
        let value: JSONValue
        switch body.readableBytes == 0 ? .success(.object(JSONObject())) : StrictJSON.parse(body) {
        case .success(let parsed): value = parsed
        case .failure(let problem):
            throw TableError.serialization("The request body is not valid JSON: \(problem.reason).")
        }
        try DynamoDBMembers.check(value, of: operation)
        let note = context.auditNote
        let tables = self.tables
        let audit: Audit = { parameters, names in
            let account = tables.configuration.accountID
            note?.addResources(
                names.map {
                    Resource.dynamoDBTable(arn: $0.hasPrefix("arn:") ? $0 : tables.tableARN($0), account: account)
                }
            )
            try await note?.described(request, parameters: parameters)
        }
        // `aws:SourceIp` of the identity policies that authorize the call.
        let output = try await CallerAddress.$current.withValue(context.sourceIP) {
            try await endpoint(body, tables, context.principal.arn, audit)
        }
        return Response(
            status: .ok,
            headers: [.contentType: DynamoDBJSON.contentType],
            body: ResponseBody(byteBuffer: output)
        )
    }

    // MARK: - Dispatch

    static let table: [DynamoDBOperation: Endpoint] = {
        var table: [DynamoDBOperation: Endpoint] = [:]
        func add<Input: DynamoDBRequest>(_ input: Input.Type) {
            table[Input.operation] = { body, service, caller, audit in
                let request = try decode(Input.self, from: body)
                let described = await DynamoDBAuditParameters.describe(request) { await service.keyNames(of: $0) }
                try await audit(described.parameters, described.tables)
                return try encode(try await service.perform(request, caller: caller))
            }
        }
        add(DynamoDBCreateTableRequest.self)
        add(DynamoDBDescribeTableRequest.self)
        add(DynamoDBDeleteTableRequest.self)
        add(DynamoDBListTablesRequest.self)
        add(DynamoDBGetItemRequest.self)
        add(DynamoDBPutItemRequest.self)
        add(DynamoDBDeleteItemRequest.self)
        add(DynamoDBQueryRequest.self)
        add(DynamoDBTransactWriteItemsRequest.self)
        return table
    }()

    /// Decodes an input shape with Foundation's `JSONDecoder` (an empty body is `{}`); errors name members, never
    /// values.
    static func decode<Input: Decodable>(_ type: Input.Type, from body: ByteBuffer) throws -> Input {
        let data = body.readableBytes == 0 ? Data("{}".utf8) : Data(body.readableBytesView)
        do {
            return try AWSJSON.decoder().decode(Input.self, from: data)
        } catch let error as DecodingError {
            guard let reduced = AWSJSONDecodingError(error) else {
                throw TableError.serialization("The request body cannot be read.")
            }
            let path = reduced.path.filter { !$0.hasPrefix("Index ") }.map(KMSRoutes.memberName)
            switch reduced.kind {
            case .missing:
                throw TableError.constraint(
                    path.joined(separator: "."),
                    "null",
                    "Member must not be null"
                )
            case .wrongType:
                throw TableError.serialization(
                    path.isEmpty
                        ? "Start of structure or map expected."
                        : "The member '\(path.joined(separator: "."))' has the wrong type."
                )
            case .unreadable:
                throw TableError.serialization(
                    path.isEmpty
                        ? "The request body cannot be read."
                        : "The member '\(path.joined(separator: "."))' cannot be read (an attribute value has "
                            + "exactly one of S, N, B, BOOL, NULL, M, L, SS, NS, BS; B is base64)."
                )
            }
        } catch {
            throw TableError.serialization("The request body cannot be read.")
        }
    }

    static func encode<Output: Encodable>(_ output: Output) throws -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try AWSJSON.encoder().encode(output))
        } catch {
            throw TableError(.internalServerError, "The response could not be encoded.")
        }
    }
}

extension Resource {
    /// The CloudTrail type of DynamoDB tables.
    static let dynamoDBTableType = "AWS::DynamoDB::Table"

    /// A DynamoDB table, by ARN (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`).
    static func dynamoDBTable(arn: String, account: String) -> Resource {
        Resource(arn: arn, type: dynamoDBTableType, accountId: account)
    }
}

