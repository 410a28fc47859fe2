import AuditTrail
import Foundation
import HTTPTypes
import Hummingbird
public import WireShapes
public import KeyService
import NIOCore
import SealedSupport

/// The KMS JSON 1.1 endpoint: `POST /` with `X-Amz-Target: TrentService.<Operation>`.
///
/// The handler checks the content type (`application/x-amz-json-1.1`, else `SerializationException`), finds the
/// operation (`UnknownOperationException` for a missing target, another service's target or an operation the key
/// service does not implement), decodes the body into the operation's input shape (`SerializationException` for
/// malformed JSON or a member of the wrong type, `ValidationException` for a missing required member), calls the
/// ``KeyService/KeyService`` with the authenticated caller and encodes its output. `KMSError`s from the service pass
/// through unchanged.
public struct KMSRoutes: Sendable {
    /// Decodes a body (given with its one strict parse), calls the service, encodes the output; also names the key the
    /// operation used (for the audit).
    typealias Endpoint =
        @Sendable (_ body: ByteBuffer, _ value: JSONValue, _ service: KeyService, _ caller: Caller) async throws -> (
            body: ByteBuffer, keyARN: String?
        )

    let keyService: KeyService
    let endpoints: [KMSOperation: Endpoint]

    /// The operations the server answers.
    public var operations: Set<KMSOperation> { Set(endpoints.keys) }

    public init(keyService: KeyService) {
        self.keyService = keyService
        self.endpoints = Self.table
    }

    func handle(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        guard Self.isJSON11(request.headers.value(of: .contentType)) else {
            throw KMSError.serialization("Content-Type must be \(AWSJSON.contentType).")
        }
        guard let target = request.headers.value(of: .amzTarget), let operation = KMSOperation(target: target),
            let endpoint = endpoints[operation]
        else { throw KMSError.unknownOperation }
        // The SigV4 middleware collected the body within the limit; this reads that buffer again.
        let body = try await request.body.collect(upTo: .max)
        let value = try Self.parse(body)
        // The audit record's parameters come from this parse: the recorder does not read the body again.
        context.auditNote?.noteParameters(Record.kmsRequestParameters(value))
        let caller = Caller(
            principal: context.principal.arn,
            sourceIP: context.sourceIP,
            account: context.principal.account
        )
        let output = try await endpoint(body, value, keyService, caller)
        if let note = context.auditNote { note.setKeyARN(output.keyARN) }
        return Response(
            status: .ok,
            headers: [.contentType: AWSJSON.contentType],
            body: ResponseBody(byteBuffer: output.body)
        )
    }

    /// `application/x-amz-json-1.1`, with any parameters, in any case.
    static func isJSON11(_ contentType: String?) -> Bool { hasContentType(contentType, AWSJSON.contentType) }

    /// Whether a `Content-Type` is `expected` (lower case), with any parameters, in any case.
    static func hasContentType(_ contentType: String?, _ expected: String) -> Bool {
        guard let contentType else { return false }
        // Bytes, not Foundation: this runs on every request.
        var bytes = Substring(contentType).utf8.prefix { $0 != UInt8(ascii: ";") }[...]
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes.removeFirst() }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes.removeLast() }
        let expected = expected.utf8
        guard bytes.count == expected.count else { return false }
        return zip(bytes, expected).allSatisfy { actual, wanted in
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(actual) ? actual | 0x20 : actual
            return lower == wanted
        }
    }

    // MARK: - Dispatch

    static let table: [KMSOperation: Endpoint] = {
        var table: [KMSOperation: Endpoint] = [:]
        func add<Input: KMSRequest>(
            _ input: Input.Type,
            _ call: @escaping @Sendable (KeyService, Input, Caller) async throws -> Input.Response
        ) where Input.Response: AuditedKMSResponse {
            table[Input.operation] = { body, value, service, caller in
                let request = try KMSRoutes.decode(Input.self, from: body, parsed: value)
                let response = try await call(service, request, caller)
                return (try KMSRoutes.encode(response), response.auditedKeyARN)
            }
        }
        add(CreateKeyRequest.self) { try await $0.createKey($1, caller: $2) }
        add(DescribeKeyRequest.self) { try await $0.describeKey($1, caller: $2) }
        add(ListKeysRequest.self) { try await $0.listKeys($1, caller: $2) }
        add(EnableKeyRequest.self) { try await $0.enableKey($1, caller: $2) }
        add(DisableKeyRequest.self) { try await $0.disableKey($1, caller: $2) }
        add(UpdateKeyDescriptionRequest.self) { try await $0.updateKeyDescription($1, caller: $2) }
        add(ScheduleKeyDeletionRequest.self) { try await $0.scheduleKeyDeletion($1, caller: $2) }
        add(CancelKeyDeletionRequest.self) { try await $0.cancelKeyDeletion($1, caller: $2) }
        add(GetKeyPolicyRequest.self) { try await $0.getKeyPolicy($1, caller: $2) }
        add(PutKeyPolicyRequest.self) { try await $0.putKeyPolicy($1, caller: $2) }
        add(TagResourceRequest.self) { try await $0.tagResource($1, caller: $2) }
        add(UntagResourceRequest.self) { try await $0.untagResource($1, caller: $2) }
        add(ListResourceTagsRequest.self) { try await $0.listResourceTags($1, caller: $2) }
        add(CreateAliasRequest.self) { try await $0.createAlias($1, caller: $2) }
        add(UpdateAliasRequest.self) { try await $0.updateAlias($1, caller: $2) }
        add(DeleteAliasRequest.self) { try await $0.deleteAlias($1, caller: $2) }
        add(ListAliasesRequest.self) { try await $0.listAliases($1, caller: $2) }
        add(EncryptRequest.self) { try await $0.encrypt($1, caller: $2) }
        add(DecryptRequest.self) { try await $0.decrypt($1, caller: $2) }
        add(ReEncryptRequest.self) { try await $0.reEncrypt($1, caller: $2) }
        add(GenerateDataKeyRequest.self) { try await $0.generateDataKey($1, caller: $2) }
        add(GenerateDataKeyWithoutPlaintextRequest.self) {
            try await $0.generateDataKeyWithoutPlaintext($1, caller: $2)
        }
        add(GenerateRandomRequest.self) { try await $0.generateRandom($1, caller: $2) }
        add(EnableKeyRotationRequest.self) { try await $0.enableKeyRotation($1, caller: $2) }
        add(DisableKeyRotationRequest.self) { try await $0.disableKeyRotation($1, caller: $2) }
        add(GetKeyRotationStatusRequest.self) { try await $0.getKeyRotationStatus($1, caller: $2) }
        add(RotateKeyOnDemandRequest.self) { try await $0.rotateKeyOnDemand($1, caller: $2) }
        add(ListKeyRotationsRequest.self) { try await $0.listKeyRotations($1, caller: $2) }
        return table
    }()

    /// Decodes an input shape from a body and its ``parse(_:)``, which refused anything but strict JSON (a member named
    /// twice, at any depth, included) as a `SerializationException` before anything reads it (``StrictJSON``).
    ///
    /// The hot operations' shapes (``WireShapes/AWSJSONDecodable``) are read from that one parse; the others are
    /// decoded by Foundation's `JSONDecoder`, with the same errors.
    static func decode<Input: Decodable>(_ type: Input.Type, from body: ByteBuffer, parsed value: JSONValue) throws
        -> Input
    {
        guard let shape = Input.self as? any AWSJSONDecodable.Type else {
            return try decodeWithFoundation(Input.self, from: body)
        }
        do {
            return try shape.init(awsJSON: AWSJSONReader(value)) as! Input
        } catch {
            throw KMSError(requestDecoding: error)
        }
    }

    /// The value of a body, which must be strict JSON; an empty body is `{}`.
    static func parse(_ body: ByteBuffer) throws -> JSONValue {
        guard body.readableBytes > 0 else { return .object(JSONObject()) }
        switch StrictJSON.parse(body) {
        case .success(let value): return value
        case .failure(let problem):
            throw KMSError.serialization("The request body is not valid JSON: \(problem.reason).")
        }
    }

    /// Decodes an input shape from a body ``parse(_:)`` accepted, with Foundation's `JSONDecoder`.
    static func decodeWithFoundation<Input: Decodable>(_ type: Input.Type, from body: ByteBuffer) throws -> Input {
        let data = body.readableBytes == 0 ? Data("{}".utf8) : Data(body.readableBytesView)
        do {
            return try AWSJSON.decoder().decode(Input.self, from: data)
        } catch let error as DecodingError {
            guard let reduced = AWSJSONDecodingError(error) else {
                throw KMSError.serialization("The request body cannot be read.")
            }
            throw KMSError(requestDecoding: reduced)
        } catch {
            throw KMSError.serialization("The request body cannot be read.")
        }
    }

    /// Encodes an output shape: the hot operations' with ``WireShapes/AWSJSONWriter``, the others with Foundation's
    /// `JSONEncoder` (the same bytes).
    static func encode<Output: Encodable>(_ output: Output) throws -> ByteBuffer {
        if let shape = output as? any AWSJSONEncodable { return ByteBuffer(bytes: shape.awsJSON()) }
        return try encodeWithFoundation(output)
    }

    static func encodeWithFoundation<Output: Encodable>(_ output: Output) throws -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try AWSJSON.encoder().encode(output))
        } catch {
            throw KMSError(code: .kmsInternalException, message: "The response could not be encoded.")
        }
    }

    /// AWS names members in validation messages in lower camel case (`KeyId` → `keyId`).
    static func memberName(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }
}

extension KMSError {
    /// The error for a request body that is JSON but not of the operation's input shape, in AWS's words. Messages
    /// name members and types, never values: a body may hold plaintext.
    init(requestDecoding error: AWSJSONDecodingError) {
        switch error.kind {
        case .missing:
            let path = error.path.map(KMSRoutes.memberName).joined(separator: ".")
            self.init(
                code: .validationException,
                message:
                    "1 validation error detected: Value null at '\(path)' failed to satisfy constraint: Member must not be null"
            )
        case .wrongType:
            let path = error.path.joined(separator: ".")
            self = .serialization(
                path.isEmpty ? "Start of structure or map expected." : "The member '\(path)' has the wrong type."
            )
        case .unreadable:
            let path = error.path.joined(separator: ".")
            self = .serialization(
                path.isEmpty ? "The request body is not valid JSON." : "The member '\(path)' cannot be read."
            )
        }
    }
}
