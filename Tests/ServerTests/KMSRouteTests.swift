import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMS
import KeyService
import Server
import Testing

@Suite struct KMSRouteTests {
    @Test func everyOperationRoundTripsThroughHTTP() async throws {
        let fixture = try Fixture()
        let served = try await fixture.withRouter { client in
            var used: Set<KMSOperation> = []
            func call<R: KMSRequest>(_ request: R) async throws -> R.Response {
                used.insert(R.operation)
                return try await client.send(request)
            }

            let created = try await call(CreateKeyRequest(description: "first", tags: [Tag(key: "team", value: "a")]))
            let key = try #require(created.keyMetadata?.keyId)
            let arn = try #require(created.keyMetadata?.arn)
            let second = try #require(try await call(CreateKeyRequest()).keyMetadata?.keyId)

            #expect(try await call(DescribeKeyRequest(keyId: arn)).keyMetadata?.keyId == key)
            let listed = try await call(ListKeysRequest())
            #expect(Set(listed.keys?.compactMap(\.keyId) ?? []) == [key, second])

            _ = try await call(UpdateKeyDescriptionRequest(keyId: key, description: "renamed"))
            #expect(try await call(DescribeKeyRequest(keyId: key)).keyMetadata?.description == "renamed")

            _ = try await call(TagResourceRequest(keyId: key, tags: [Tag(key: "env", value: "test")]))
            #expect(try await call(ListResourceTagsRequest(keyId: key)).tags?.count == 2)
            _ = try await call(UntagResourceRequest(keyId: key, tagKeys: ["env"]))
            #expect(try await call(ListResourceTagsRequest(keyId: key)).tags == [Tag(key: "team", value: "a")])

            _ = try await call(CreateAliasRequest(aliasName: "alias/events", targetKeyId: key))
            #expect(try await call(ListAliasesRequest(keyId: key)).aliases?.first?.aliasName == "alias/events")
            _ = try await call(UpdateAliasRequest(aliasName: "alias/events", targetKeyId: second))
            _ = try await call(UpdateAliasRequest(aliasName: "alias/events", targetKeyId: key))

            let context = ["eventType": "payments.card.captured"]
            let plaintext = Data("sealed payload".utf8)
            let encrypted = try await call(
                EncryptRequest(keyId: "alias/events", plaintext: plaintext, encryptionContext: context)
            )
            let blob = try #require(encrypted.ciphertextBlob)
            let decrypted = try await call(DecryptRequest(ciphertextBlob: blob, encryptionContext: context))
            #expect(decrypted.plaintext == plaintext)
            #expect(decrypted.keyId == arn)

            let reEncrypted = try await call(
                ReEncryptRequest(
                    ciphertextBlob: blob,
                    sourceEncryptionContext: context,
                    destinationKeyId: second,
                    destinationEncryptionContext: context
                )
            )
            let moved = try #require(reEncrypted.ciphertextBlob)
            #expect(try await call(DecryptRequest(ciphertextBlob: moved, encryptionContext: context)).plaintext == plaintext)

            let dataKey = try await call(GenerateDataKeyRequest(keyId: key, encryptionContext: context, keySpec: .aes256))
            #expect(dataKey.plaintext?.count == 32)
            let unwrapped = try await call(
                DecryptRequest(ciphertextBlob: try #require(dataKey.ciphertextBlob), encryptionContext: context)
            )
            #expect(unwrapped.plaintext == dataKey.plaintext)
            let withoutPlaintext = try await call(GenerateDataKeyWithoutPlaintextRequest(keyId: key, numberOfBytes: 16))
            #expect(withoutPlaintext.ciphertextBlob != nil)
            #expect(try await call(GenerateRandomRequest(numberOfBytes: 24)).plaintext?.count == 24)

            let policy = try #require(try await call(GetKeyPolicyRequest(keyId: key)).policy)
            _ = try await call(PutKeyPolicyRequest(keyId: key, policy: policy))

            _ = try await call(EnableKeyRotationRequest(keyId: key, rotationPeriodInDays: 90))
            #expect(try await call(GetKeyRotationStatusRequest(keyId: key)).keyRotationEnabled == true)
            _ = try await call(RotateKeyOnDemandRequest(keyId: key))
            #expect(try await call(ListKeyRotationsRequest(keyId: key)).rotations?.count == 1)
            _ = try await call(DisableKeyRotationRequest(keyId: key))
            // Old ciphertexts still decrypt after rotation.
            #expect(try await call(DecryptRequest(ciphertextBlob: blob, encryptionContext: context)).plaintext == plaintext)

            _ = try await call(DisableKeyRequest(keyId: key))
            #expect(try await call(DescribeKeyRequest(keyId: key)).keyMetadata?.keyState == .disabled)
            _ = try await call(EnableKeyRequest(keyId: key))

            _ = try await call(DeleteAliasRequest(aliasName: "alias/events"))
            let scheduled = try await call(ScheduleKeyDeletionRequest(keyId: second, pendingWindowInDays: 7))
            #expect(scheduled.keyState == .pendingDeletion)
            _ = try await call(CancelKeyDeletionRequest(keyId: second))
            #expect(try await call(DescribeKeyRequest(keyId: second)).keyMetadata?.keyState == .disabled)
            return used
        }
        #expect(served == KMSRoutes(keyService: fixture.server.keyService).operations)
        #expect(served.count == 28)
    }

    @Test func serviceErrorsKeepTheirCodeAndStatus() async throws {
        try await Fixture().withRouter { client in
            let body = Array(#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#.utf8)
            let response = try await client.raw(.init(target: KMSOperation.describeKey.target, body: body))
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == AWSJSON.contentType)
            #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!] != nil)
            let error = Client.error(response)
            #expect(error.code == .notFoundException)
            #expect(error.message.contains("does not exist"))
        }
    }

    @Test func aNonAdministratorIsDenied() async throws {
        try await Fixture().withRouter { client in
            await #expect(throws: KMSError.accessDenied) {
                try await client.send(CreateKeyRequest(), as: Fixture.reader)
            }
            do {
                _ = try await client.send(ListKeysRequest(), as: Fixture.reader)
            } catch let error as KMSError {
                #expect(error.statusCode == 400)
                #expect(error.message.contains(Fixture.reader.principalARN))
            }
        }
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        var name: String
        var target: String?
        var contentType: String?
        var body: String
        var code: KMSError.Code
        var testDescription: String { name }
    }

    static let badRequests: [BadRequest] = [
        .init(name: "unknown operation", target: "TrentService.ConnectCustomKeyStore", contentType: AWSJSON.contentType, body: "{}", code: .unknownOperationException),
        .init(name: "another service", target: "AWSSecurityTokenServiceV20110615.GetCallerIdentity", contentType: AWSJSON.contentType, body: "{}", code: .unknownOperationException),
        .init(name: "no target", target: nil, contentType: AWSJSON.contentType, body: "{}", code: .unknownOperationException),
        .init(name: "malformed JSON", target: "TrentService.DescribeKey", contentType: AWSJSON.contentType, body: #"{"KeyId": "#, code: .serializationException),
        .init(name: "not an object", target: "TrentService.DescribeKey", contentType: AWSJSON.contentType, body: "[1]", code: .serializationException),
        .init(name: "member of the wrong type", target: "TrentService.GenerateRandom", contentType: AWSJSON.contentType, body: #"{"NumberOfBytes":"many"}"#, code: .serializationException),
        .init(name: "blob that is not base64", target: "TrentService.Decrypt", contentType: AWSJSON.contentType, body: #"{"CiphertextBlob":"***"}"#, code: .serializationException),
        .init(name: "missing required member", target: "TrentService.DescribeKey", contentType: AWSJSON.contentType, body: "{}", code: .validationException),
        .init(name: "wrong content type", target: "TrentService.ListKeys", contentType: "application/x-www-form-urlencoded", body: "{}", code: .serializationException),
        .init(name: "no content type", target: "TrentService.ListKeys", contentType: nil, body: "{}", code: .serializationException),
    ]

    @Test(arguments: badRequests)
    func badRequestsGetAWSShapedErrors(_ bad: BadRequest) async throws {
        try await Fixture().withRouter { client in
            let response = try await client.raw(
                .init(target: bad.target, contentType: bad.contentType, body: Array(bad.body.utf8))
            )
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == AWSJSON.contentType)
            #expect(Client.error(response).code == bad.code)
        }
    }

    @Test func aMissingMemberIsNamedLikeAWS() async throws {
        try await Fixture().withRouter { client in
            let response = try await client.raw(.init(target: "TrentService.DescribeKey", body: Array("{}".utf8)))
            #expect(
                Client.error(response).message
                    == "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
            )
        }
    }

    @Test func contentTypeParametersAreAccepted() async throws {
        try await Fixture().withRouter { client in
            let response = try await client.raw(
                .init(target: "TrentService.ListKeys", contentType: "application/x-amz-json-1.1; charset=utf-8", body: Array("{}".utf8))
            )
            #expect(response.status == .ok)
        }
    }

    @Test func anOversizeBodyIs413() async throws {
        try await Fixture().withRouter { client in
            let body = Array(repeating: UInt8(ascii: " "), count: 1_048_577)
            let response = try await client.raw(.init(target: "TrentService.ListKeys", body: body))
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == AWSJSON.contentType)
            #expect(Client.error(response).code.rawValue == "RequestEntityTooLargeException")
            // Exactly 1 MiB passes the limit (and then fails as JSON only because it is blank).
            let atLimit = Array(repeating: UInt8(ascii: " "), count: 1_048_576)
            let accepted = try await client.raw(.init(target: "TrentService.ListKeys", body: atLimit))
            #expect(accepted.status == .badRequest)
            #expect(Client.error(accepted).code == .serializationException)
        }
    }
}
