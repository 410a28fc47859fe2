import Foundation
import KMS
import KeyService
import Testing

/// One identifier form, spelled for a key that has the alias `alias/table`.
enum Form: String, CaseIterable, Sendable {
    case keyID, keyARN, aliasName, aliasARN

    func spell(_ key: KeyMetadata) -> String {
        switch self {
        case .keyID: key.keyId
        case .keyARN: key.arn!
        case .aliasName: "alias/table"
        case .aliasARN: "arn:aws:kms:us-east-1:000000000000:alias/table"
        }
    }
}

/// An operation with the identifier under test in its key-id member.
struct IdentifierCase: Sendable, CustomTestStringConvertible {
    let operation: KMSOperation
    let acceptsAliases: Bool
    /// The error a form the operation does not accept gets.
    let refusal: KMSError.Code
    let run: @Sendable (Fixture, KeyMetadata, String) async throws -> Void

    var testDescription: String { operation.rawValue }

    static let all: [IdentifierCase] = [
        IdentifierCase(operation: .describeKey, acceptsAliases: true, refusal: .notFoundException) { f, _, id in
            _ = try await f.describe(id)
        },
        IdentifierCase(operation: .encrypt, acceptsAliases: true, refusal: .notFoundException) { f, _, id in
            _ = try await f.encrypt(id)
        },
        IdentifierCase(operation: .decrypt, acceptsAliases: true, refusal: .notFoundException) { f, key, id in
            _ = try await f.decrypt(try await f.encrypt(key.keyId), keyID: id)
        },
        IdentifierCase(operation: .reEncrypt, acceptsAliases: true, refusal: .notFoundException) { f, key, id in
            let blob = try await f.encrypt(key.keyId)
            _ = try await f.service.reEncrypt(
                ReEncryptRequest(ciphertextBlob: blob, sourceKeyId: id, destinationKeyId: id),
                caller: administrator
            )
        },
        IdentifierCase(operation: .generateDataKey, acceptsAliases: true, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.generateDataKey(
                GenerateDataKeyRequest(keyId: id, numberOfBytes: 8),
                caller: administrator
            )
        },
        IdentifierCase(operation: .generateDataKeyWithoutPlaintext, acceptsAliases: true, refusal: .notFoundException) {
            f,
            _,
            id in
            _ = try await f.service.generateDataKeyWithoutPlaintext(
                GenerateDataKeyWithoutPlaintextRequest(keyId: id, numberOfBytes: 8),
                caller: administrator
            )
        },
        IdentifierCase(operation: .enableKey, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            try await f.enable(id)
        },
        IdentifierCase(operation: .disableKey, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            try await f.disable(id)
        },
        IdentifierCase(operation: .scheduleKeyDeletion, acceptsAliases: false, refusal: .notFoundException) {
            f,
            _,
            id in
            _ = try await f.scheduleDeletion(id)
        },
        IdentifierCase(operation: .cancelKeyDeletion, acceptsAliases: false, refusal: .notFoundException) {
            f,
            key,
            id in
            _ = try await f.scheduleDeletion(key.keyId)
            _ = try await f.service.cancelKeyDeletion(CancelKeyDeletionRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .enableKeyRotation, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.enableKeyRotation(EnableKeyRotationRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .disableKeyRotation, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.disableKeyRotation(DisableKeyRotationRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .getKeyRotationStatus, acceptsAliases: false, refusal: .notFoundException) {
            f,
            _,
            id in
            _ = try await f.service.getKeyRotationStatus(GetKeyRotationStatusRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .rotateKeyOnDemand, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.rotateKeyOnDemand(RotateKeyOnDemandRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .listKeyRotations, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.listKeyRotations(ListKeyRotationsRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .getKeyPolicy, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.getKeyPolicy(GetKeyPolicyRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .putKeyPolicy, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.putKeyPolicy(PutKeyPolicyRequest(keyId: id, policy: "{}"), caller: administrator)
        },
        IdentifierCase(operation: .tagResource, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.tagResource(
                TagResourceRequest(keyId: id, tags: [Tag(key: "a", value: "b")]),
                caller: administrator
            )
        },
        IdentifierCase(operation: .untagResource, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.untagResource(
                UntagResourceRequest(keyId: id, tagKeys: ["a"]),
                caller: administrator
            )
        },
        IdentifierCase(operation: .listResourceTags, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.listResourceTags(ListResourceTagsRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .updateKeyDescription, acceptsAliases: false, refusal: .notFoundException) {
            f,
            _,
            id in
            _ = try await f.service.updateKeyDescription(
                UpdateKeyDescriptionRequest(keyId: id, description: "d"),
                caller: administrator
            )
        },
        IdentifierCase(operation: .listAliases, acceptsAliases: false, refusal: .notFoundException) { f, _, id in
            _ = try await f.service.listAliases(ListAliasesRequest(keyId: id), caller: administrator)
        },
        IdentifierCase(operation: .createAlias, acceptsAliases: false, refusal: .validationException) { f, _, id in
            try await f.createAlias("alias/new", target: id)
        },
        IdentifierCase(operation: .updateAlias, acceptsAliases: false, refusal: .validationException) { f, _, id in
            _ = try await f.service.updateAlias(
                UpdateAliasRequest(aliasName: "alias/table", targetKeyId: id),
                caller: administrator
            )
        },
    ]
}

struct IdentifierTests {
    @Test(arguments: IdentifierCase.all, Form.allCases)
    func identifierFormsPerOperation(_ testCase: IdentifierCase, form: Form) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        try await fixture.createAlias("alias/table", target: key.keyId)
        let accepted = form == .keyID || form == .keyARN || testCase.acceptsAliases
        #expect(
            IdentifierForms.accepted(by: testCase.operation).contains([.aliasName, .aliasARN])
                == testCase.acceptsAliases
        )
        if accepted {
            try await testCase.run(fixture, key, form.spell(key))
        } else {
            await expectKMSError(testCase.refusal) { try await testCase.run(fixture, key, form.spell(key)) }
        }
    }

    @Test(arguments: [
        ("", KMSError.Code.validationException),
        (String(repeating: "a", count: 2049), .validationException),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", .notFoundException),
        ("arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab", .notFoundException),
        ("arn:aws:kms:eu-west-1:000000000000:key/KEY", .notFoundException),
        ("arn:aws:kms:us-east-1:111111111111:key/KEY", .notFoundException),
        ("arn:aws:kms:us-east-1:000000000000:alias/missing", .notFoundException),
        ("arn:aws:s3:::bucket", .notFoundException),
        ("alias/missing", .notFoundException),
        ("not-a-key", .notFoundException),
    ])
    func unknownAndMalformedIdentifiers(identifier: String, code: KMSError.Code) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let spelled = identifier.replacingOccurrences(of: "KEY", with: key.keyId)
        await expectKMSError(code) { _ = try await fixture.encrypt(spelled) }
    }

    @Test func notFoundMessagesFollowAWS() async throws {
        let fixture = try Fixture()
        let missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
        let key = await expectKMSError(.notFoundException) { _ = try await fixture.describe(missing) }
        #expect(key?.message == "Key 'arn:aws:kms:us-east-1:000000000000:key/\(missing)' does not exist")
        let alias = await expectKMSError(.notFoundException) { _ = try await fixture.describe("alias/nope") }
        #expect(alias?.message == "Alias 'arn:aws:kms:us-east-1:000000000000:alias/nope' is not found.")
    }
}

struct AliasTests {
    @Test(
        arguments: [
            ("alias/valid-Name_1/sub", nil),
            ("alias/a", nil),
            ("alias/" + String(repeating: "x", count: 250), nil),
            ("alias/" + String(repeating: "x", count: 251), KMSError.Code.validationException),
            ("", .validationException),
            ("no-prefix", .validationException),
            ("Alias/upper", .validationException),
            ("alias/with space", .validationException),
            ("alias/ünïcode", .validationException),
            ("alias/dot.dot", .validationException),
            ("alias/", .invalidAliasNameException),
            ("alias/colon:name", .invalidAliasNameException),
            ("alias/aws/reserved", KMSError.Code(rawValue: "NotAuthorizedException")),
            ("alias/aws", nil),
            ("alias/awsome", nil),
        ] as [(String, KMSError.Code?)]
    )
    func aliasNameRules(name: String, code: KMSError.Code?) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        if let code {
            await expectKMSError(code) { try await fixture.createAlias(name, target: key.keyId) }
        } else {
            try await fixture.createAlias(name, target: key.keyId)
            #expect(try await fixture.describe(name).keyId == key.keyId)
        }
    }

    @Test func createUpdateDeleteAndList() async throws {
        let fixture = try Fixture()
        let first = try await fixture.createKey()
        let second = try await fixture.createKey()
        try await fixture.createAlias("alias/b", target: first.keyId)
        fixture.clock.advance(seconds: 10)
        try await fixture.createAlias("alias/a", target: first.arn!)
        let exists = await expectKMSError(.alreadyExistsException) {
            try await fixture.createAlias("alias/a", target: second.keyId)
        }
        #expect(exists?.message == "An alias with the name arn:aws:kms:us-east-1:000000000000:alias/a already exists")

        var listed = try await fixture.service.listAliases(ListAliasesRequest(), caller: administrator)
        #expect(listed.aliases?.map(\.aliasName) == ["alias/a", "alias/b"])
        #expect(listed.aliases?.first?.aliasArn == "arn:aws:kms:us-east-1:000000000000:alias/a")
        #expect(listed.aliases?.first?.targetKeyId == first.keyId)

        fixture.clock.advance(seconds: 10)
        _ = try await fixture.service.updateAlias(
            UpdateAliasRequest(aliasName: "alias/a", targetKeyId: second.keyId),
            caller: administrator
        )
        #expect(try await fixture.describe("alias/a").keyId == second.keyId)
        let updated = try await fixture.service.listAliases(
            ListAliasesRequest(keyId: second.keyId),
            caller: administrator
        )
        #expect(updated.aliases?.map(\.aliasName) == ["alias/a"])
        #expect(updated.aliases?.first?.lastUpdatedDate == fixture.clock.now)
        #expect(updated.aliases?.first?.creationDate == fixture.clock.now.addingTimeInterval(-10))

        let page = try await fixture.service.listAliases(ListAliasesRequest(limit: 1), caller: administrator)
        #expect(page.aliases?.count == 1)
        #expect(page.truncated == true)
        let next = try await fixture.service.listAliases(
            ListAliasesRequest(limit: 1, marker: page.nextMarker),
            caller: administrator
        )
        #expect(next.aliases?.map(\.aliasName) == ["alias/b"])
        #expect(next.truncated == false)

        _ = try await fixture.service.deleteAlias(DeleteAliasRequest(aliasName: "alias/a"), caller: administrator)
        await expectKMSError(.notFoundException) {
            _ = try await fixture.service.deleteAlias(DeleteAliasRequest(aliasName: "alias/a"), caller: administrator)
        }
        await expectKMSError(.notFoundException) {
            _ = try await fixture.service.updateAlias(
                UpdateAliasRequest(aliasName: "alias/a", targetKeyId: second.keyId),
                caller: administrator
            )
        }
        listed = try await fixture.service.listAliases(ListAliasesRequest(), caller: administrator)
        #expect(listed.aliases?.map(\.aliasName) == ["alias/b"])
    }

    @Test func aliasesRefuseKeysPendingDeletionAndAcceptDisabledOnes() async throws {
        let fixture = try Fixture()
        let pending = try await fixture.createKey()
        let disabled = try await fixture.createKey()
        _ = try await fixture.scheduleDeletion(pending.keyId)
        try await fixture.disable(disabled.keyId)
        await expectKMSError(.kmsInvalidStateException) {
            try await fixture.createAlias("alias/p", target: pending.keyId)
        }
        try await fixture.createAlias("alias/d", target: disabled.keyId)
        await expectKMSError(.kmsInvalidStateException) {
            _ = try await fixture.service.updateAlias(
                UpdateAliasRequest(aliasName: "alias/d", targetKeyId: pending.keyId),
                caller: administrator
            )
        }
        await expectKMSError(.disabledException) { _ = try await fixture.encrypt("alias/d") }
    }
}
