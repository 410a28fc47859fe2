import Foundation
import WireShapes
import SealedTesting
import Testing

/// The wire shapes: AWS member names, base64 blobs, epoch-second timestamps, error bodies.
struct ShapeTests {
    private func json(_ value: some Encodable) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: AWSJSON.encoder().encode(value)) as! [String: Any]
    }

    @Test func encryptRequestUsesAWSMemberNamesAndBase64() throws {
        let request = EncryptRequest(
            keyId: "alias/x",
            plaintext: Data([1, 2, 3]),
            encryptionContext: ["a": "b"],
            grantTokens: ["t"]
        )
        let object = try json(request)
        #expect(object["KeyId"] as? String == "alias/x")
        #expect(object["Plaintext"] as? String == "AQID")
        #expect(object["EncryptionContext"] as? [String: String] == ["a": "b"])
        #expect(object["GrantTokens"] as? [String] == ["t"])
        #expect(object["DryRun"] == nil, "nil members are left out")
        #expect(!String(describing: request).contains("AQID"), "plaintext stays out of descriptions")
    }

    @Test func keyMetadataDecodesEpochSecondsAndOpenEnumerations() throws {
        let body = """
            {"KeyMetadata": {"AWSAccountId": "111122223333", "KeyId": "k", "Arn": "arn:aws:kms:us-east-1:111122223333:key/k",
             "CreationDate": 1732851234.5, "Enabled": true, "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled",
             "KeySpec": "SOMETHING_NEW", "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "Unknown": 1}}
            """
        let response = try AWSJSON.decoder().decode(DescribeKeyResponse.self, from: Data(body.utf8))
        let metadata = try #require(response.keyMetadata)
        #expect(metadata.awsAccountId == "111122223333")
        #expect(metadata.creationDate == Date(timeIntervalSince1970: 1732851234.5))
        #expect(metadata.keyState == .enabled)
        #expect(metadata.keyUsage == .encryptDecrypt)
        #expect(metadata.keySpec?.rawValue == "SOMETHING_NEW")
        #expect(metadata.encryptionAlgorithms == [.symmetricDefault])
        let reencoded = try json(response)
        let inner = try #require(reencoded["KeyMetadata"] as? [String: Any])
        #expect(inner["CreationDate"] as? Double == 1732851234.5)
    }

    @Test func everyOperationHasItsTarget() {
        #expect(EncryptRequest.operation.target == "TrentService.Encrypt")
        #expect(EnableKeyRequest.operation == .enableKey)
        #expect(CancelKeyDeletionRequest.operation.target == "TrentService.CancelKeyDeletion")
        #expect(GetKeyRotationStatusRequest.operation == .getKeyRotationStatus)
        #expect(KMSOperation(target: "TrentService.GenerateDataKey") == .generateDataKey)
        #expect(KMSOperation(target: "Other.GenerateDataKey") == nil)
    }

    @Test func keyIdRequestsRoundTrip() throws {
        let request = RotateKeyOnDemandRequest(keyId: "1234")
        #expect(try json(request) as? [String: String] == ["KeyId": "1234"])
        let decoded = try AWSJSON.decoder().decode(RotateKeyOnDemandRequest.self, from: Data(#"{"KeyId":"1234"}"#.utf8))
        #expect(decoded == request)
    }

    @Test(arguments: [
        (#"{"__type":"com.amazonaws.kms#NotFoundException","message":"gone"}"#, "NotFoundException", "gone"),
        (#"{"__type":"AccessDeniedException","Message":"no"}"#, "AccessDeniedException", "no"),
        (#"{"__type":"ValidationException:http://internal","message":"bad"}"#, "ValidationException", "bad"),
    ])
    func errorShapeStripsPrefixes(body: String, code: String, message: String) throws {
        let shape = try AWSJSON.decoder().decode(AWSErrorShape.self, from: Data(body.utf8))
        #expect(shape.code == code)
        #expect(shape.message == message)
    }

    @Test func kmsErrorsCompareByCode() {
        #expect(KMSError(code: .notFoundException, message: "a", statusCode: 400) == .notFound)
        #expect(KMSError(code: "SomethingNew") != .notFound)
        #expect(KMSError.throttling.isRetryable)
        #expect(KMSError.internalError.statusCode == 500 && KMSError.internalError.isRetryable)
        #expect(!KMSError.accessDenied.isRetryable)
        #expect(KMSError(code: .disabledException, message: "m").description.contains("DisabledException: m"))
    }

    @Test(arguments: [
        ("arn:aws:kms:us-east-1:111122223333:key/1234abcd", true, KMSARN.ResourceType.key),
        ("arn:aws-cn:kms:cn-north-1:111122223333:alias/a/b", true, .alias),
        ("arn:aws:kms:us-east-1:111122223333:key/", false, .key),
        ("arn:aws:kms:us-east-1::key/1234", false, .key),
        ("arn:aws:kms::111122223333:key/1234", false, .key),
        ("arn::kms:us-east-1:111122223333:key/1234", false, .key),
        ("arn:aws:s3:us-east-1:111122223333:key/1234", false, .key),
        ("arn:aws:kms:us-east-1:111122223333:grant/1234", false, .key),
        ("arn:aws:kms:us-east-1:111122223333:key1234", false, .key),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", false, .key),
        ("alias/foo", false, .key),
    ])
    func arnValidity(text: String, valid: Bool, type: KMSARN.ResourceType) {
        let arn = KMSARN(text)
        #expect((arn != nil) == valid)
        if let arn {
            #expect(arn.resourceType == type)
            #expect(arn.description == text)
        }
    }
}
