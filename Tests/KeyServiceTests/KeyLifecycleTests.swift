import Foundation
import KMS
import KeyService
import Testing

struct KeyLifecycleTests {
    @Test func createKeyDescribesASymmetricEncryptionKey() async throws {
        let fixture = try Fixture()
        let created = try await fixture.createKey(description: "payments", tags: [Tag(key: "team", value: "pay")])
        #expect(UUID(uuidString: created.keyId) != nil)
        #expect(created.keyId == created.keyId.lowercased())
        #expect(created.arn == "arn:aws:kms:us-east-1:000000000000:key/\(created.keyId)")
        #expect(created.awsAccountId == "000000000000")
        #expect(created.description == "payments")
        #expect(created.creationDate == fixture.clock.now)
        #expect(created.keyState == .enabled)
        #expect(created.enabled == true)
        #expect(created.keyUsage == .encryptDecrypt)
        #expect(created.keySpec == .symmetricDefault)
        #expect(created.customerMasterKeySpec == .symmetricDefault)
        #expect(created.origin == .awsKMS)
        #expect(created.keyManager == .customer)
        #expect(created.encryptionAlgorithms == [.symmetricDefault])
        #expect(created.currentKeyMaterialId?.count == 64)
        #expect(created.deletionDate == nil)
        #expect(try await fixture.describe(created.keyId) == created)
    }

    @Test(arguments: [
        CreateKeyRequest(keyUsage: .signVerify),
        CreateKeyRequest(keySpec: .rsa2048),
        CreateKeyRequest(customerMasterKeySpec: .hmac256),
        CreateKeyRequest(origin: .external),
        CreateKeyRequest(customKeyStoreId: "cks-1"),
        CreateKeyRequest(multiRegion: true),
    ])
    func createKeyRefusesWhatItDoesNotSupport(request: CreateKeyRequest) async throws {
        let fixture = try Fixture()
        await expectKMSError(.unsupportedOperationException) {
            _ = try await fixture.service.createKey(request, caller: administrator)
        }
    }

    @Test func createKeyValidatesPolicyTagsAndDescription() async throws {
        let fixture = try Fixture()
        await expectKMSError(.malformedPolicyDocumentException) {
            _ = try await fixture.service.createKey(CreateKeyRequest(policy: "{not json"), caller: administrator)
        }
        await expectKMSError(.malformedPolicyDocumentException) {
            _ = try await fixture.service.createKey(CreateKeyRequest(policy: "[1,2]"), caller: administrator)
        }
        await expectKMSError(.tagException) {
            _ = try await fixture.createKey(tags: [Tag(key: "aws:owner", value: "x")])
        }
        await expectKMSError(.validationException) {
            _ = try await fixture.createKey(description: String(repeating: "d", count: 8193))
        }
        #expect(try await fixture.service.listKeys(ListKeysRequest(), caller: administrator).keys == [])
    }

    @Test func keyPolicyDefaultsAndReplaces() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let initial = try await fixture.service.getKeyPolicy(
            GetKeyPolicyRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(initial.policyName == "default")
        let document = try JSONSerialization.jsonObject(with: Data(try #require(initial.policy).utf8)) as? [String: Any]
        #expect(document?["Version"] as? String == "2012-10-17")

        let policy = #"{"Version":"2012-10-17","Statement":[]}"#
        _ = try await fixture.service.putKeyPolicy(
            PutKeyPolicyRequest(keyId: key.arn!, policy: policy),
            caller: administrator
        )
        #expect(
            try await fixture.service.getKeyPolicy(GetKeyPolicyRequest(keyId: key.keyId), caller: administrator).policy
                == policy
        )
        await expectKMSError(.malformedPolicyDocumentException) {
            _ = try await fixture.service.putKeyPolicy(
                PutKeyPolicyRequest(keyId: key.keyId, policy: "nope"),
                caller: administrator
            )
        }
        await expectKMSError(.notFoundException) {
            _ = try await fixture.service.getKeyPolicy(
                GetKeyPolicyRequest(keyId: key.keyId, policyName: "other"),
                caller: administrator
            )
        }
    }

    @Test func tagsAddReplaceRemoveAndList() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey(tags: [Tag(key: "b", value: "1")])
        _ = try await fixture.service.tagResource(
            TagResourceRequest(keyId: key.keyId, tags: [Tag(key: "a", value: "2"), Tag(key: "b", value: "3")]),
            caller: administrator
        )
        var tags = try await fixture.service.listResourceTags(
            ListResourceTagsRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(tags.tags == [Tag(key: "a", value: "2"), Tag(key: "b", value: "3")])
        #expect(tags.truncated == false)

        let page = try await fixture.service.listResourceTags(
            ListResourceTagsRequest(keyId: key.keyId, limit: 1),
            caller: administrator
        )
        #expect(page.tags == [Tag(key: "a", value: "2")])
        #expect(page.truncated == true)
        let next = try await fixture.service.listResourceTags(
            ListResourceTagsRequest(keyId: key.keyId, limit: 1, marker: page.nextMarker),
            caller: administrator
        )
        #expect(next.tags == [Tag(key: "b", value: "3")])

        _ = try await fixture.service.untagResource(
            UntagResourceRequest(keyId: key.keyId, tagKeys: ["a", "zzz"]),
            caller: administrator
        )
        tags = try await fixture.service.listResourceTags(
            ListResourceTagsRequest(keyId: key.keyId),
            caller: administrator
        )
        #expect(tags.tags == [Tag(key: "b", value: "3")])

        await expectKMSError(.tagException) {
            _ = try await fixture.service.tagResource(
                TagResourceRequest(keyId: key.keyId, tags: [Tag(key: "aws:x", value: "")]),
                caller: administrator
            )
        }
        await expectKMSError(.tagException) {
            _ = try await fixture.service.tagResource(
                TagResourceRequest(keyId: key.keyId, tags: (0..<50).map { Tag(key: "k\($0)", value: "") }),
                caller: administrator
            )
        }
        await expectKMSError(.invalidMarkerException) {
            _ = try await fixture.service.listResourceTags(
                ListResourceTagsRequest(keyId: key.keyId, marker: "garbage"),
                caller: administrator
            )
        }
    }

    @Test func updateKeyDescription() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey(description: "old")
        _ = try await fixture.service.updateKeyDescription(
            UpdateKeyDescriptionRequest(keyId: key.keyId, description: "new"),
            caller: administrator
        )
        #expect(try await fixture.describe(key.keyId).description == "new")
    }

    @Test func listKeysPagesInIdOrder() async throws {
        let fixture = try Fixture()
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try await fixture.createKey().keyId) }
        ids.sort()
        var seen: [String] = []
        var marker: String?
        repeat {
            let page = try await fixture.service.listKeys(
                ListKeysRequest(limit: 2, marker: marker),
                caller: administrator
            )
            seen += (page.keys ?? []).compactMap(\.keyId)
            #expect((page.keys ?? []).allSatisfy { $0.keyArn == "arn:aws:kms:us-east-1:000000000000:key/\($0.keyId!)" })
            marker = page.truncated == true ? page.nextMarker : nil
        } while marker != nil
        #expect(seen == ids)
        await expectKMSError(.validationException) {
            _ = try await fixture.service.listKeys(ListKeysRequest(limit: 0), caller: administrator)
        }
        await expectKMSError(.validationException) {
            _ = try await fixture.service.listKeys(ListKeysRequest(limit: 1001), caller: administrator)
        }
    }

    @Test func enableAndDisable() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        try await fixture.disable(key.keyId)
        var described = try await fixture.describe(key.keyId)
        #expect(described.keyState == .disabled)
        #expect(described.enabled == false)
        try await fixture.disable(key.keyId)  // idempotent, as on AWS
        try await fixture.enable(key.keyId)
        described = try await fixture.describe(key.keyId)
        #expect(described.keyState == .enabled)
        #expect(described.enabled == true)
    }

    /// Every key-management and cryptographic operation against a key in each state: the verdict AWS gives.
    @Test(arguments: StateCase.all)
    func stateRules(_ testCase: StateCase) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId)
        switch testCase.state {
        case .disabled: try await fixture.disable(key.keyId)
        case .pendingDeletion: _ = try await fixture.scheduleDeletion(key.keyId)
        default: break
        }
        let context = StateCase.Context(fixture: fixture, keyID: key.keyId, blob: blob)
        if let expected = testCase.expected {
            await expectKMSError(expected) { try await testCase.run(context) }
        } else {
            try await testCase.run(context)
        }
    }
}

/// One operation in one key state, with the error AWS answers (`nil`: it succeeds).
struct StateCase: Sendable, CustomTestStringConvertible {
    struct Context: Sendable {
        let fixture: Fixture
        let keyID: String
        let blob: Data
    }

    let operation: String
    let state: KeyState
    let expected: KMSError.Code?
    let run: @Sendable (Context) async throws -> Void

    var testDescription: String { "\(operation) on \(state) → \(expected?.rawValue ?? "success")" }

    static let operations: [(String, @Sendable (Context) async throws -> Void)] = [
        ("Encrypt", { c in _ = try await c.fixture.encrypt(c.keyID) }),
        ("Decrypt", { c in _ = try await c.fixture.decrypt(c.blob) }),
        (
            "ReEncrypt",
            { c in
                _ = try await c.fixture.service.reEncrypt(
                    ReEncryptRequest(ciphertextBlob: c.blob, destinationKeyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "GenerateDataKey",
            { c in
                _ = try await c.fixture.service.generateDataKey(
                    GenerateDataKeyRequest(keyId: c.keyID, keySpec: .aes256),
                    caller: administrator
                )
            }
        ),
        (
            "GenerateDataKeyWithoutPlaintext",
            { c in
                _ = try await c.fixture.service.generateDataKeyWithoutPlaintext(
                    GenerateDataKeyWithoutPlaintextRequest(keyId: c.keyID, numberOfBytes: 16),
                    caller: administrator
                )
            }
        ),
        ("DescribeKey", { c in _ = try await c.fixture.describe(c.keyID) }),
        ("EnableKey", { c in try await c.fixture.enable(c.keyID) }),
        ("DisableKey", { c in try await c.fixture.disable(c.keyID) }),
        ("ScheduleKeyDeletion", { c in _ = try await c.fixture.scheduleDeletion(c.keyID, days: 7) }),
        (
            "CancelKeyDeletion",
            { c in
                _ = try await c.fixture.service.cancelKeyDeletion(
                    CancelKeyDeletionRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "EnableKeyRotation",
            { c in
                _ = try await c.fixture.service.enableKeyRotation(
                    EnableKeyRotationRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "DisableKeyRotation",
            { c in
                _ = try await c.fixture.service.disableKeyRotation(
                    DisableKeyRotationRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "GetKeyRotationStatus",
            { c in
                _ = try await c.fixture.service.getKeyRotationStatus(
                    GetKeyRotationStatusRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "RotateKeyOnDemand",
            { c in
                _ = try await c.fixture.service.rotateKeyOnDemand(
                    RotateKeyOnDemandRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "ListKeyRotations",
            { c in
                _ = try await c.fixture.service.listKeyRotations(
                    ListKeyRotationsRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "GetKeyPolicy",
            { c in
                _ = try await c.fixture.service.getKeyPolicy(GetKeyPolicyRequest(keyId: c.keyID), caller: administrator)
            }
        ),
        (
            "PutKeyPolicy",
            { c in
                _ = try await c.fixture.service.putKeyPolicy(
                    PutKeyPolicyRequest(keyId: c.keyID, policy: #"{"Statement":[]}"#),
                    caller: administrator
                )
            }
        ),
        (
            "TagResource",
            { c in
                _ = try await c.fixture.service.tagResource(
                    TagResourceRequest(keyId: c.keyID, tags: [Tag(key: "k", value: "v")]),
                    caller: administrator
                )
            }
        ),
        (
            "UntagResource",
            { c in
                _ = try await c.fixture.service.untagResource(
                    UntagResourceRequest(keyId: c.keyID, tagKeys: ["k"]),
                    caller: administrator
                )
            }
        ),
        (
            "ListResourceTags",
            { c in
                _ = try await c.fixture.service.listResourceTags(
                    ListResourceTagsRequest(keyId: c.keyID),
                    caller: administrator
                )
            }
        ),
        (
            "UpdateKeyDescription",
            { c in
                _ = try await c.fixture.service.updateKeyDescription(
                    UpdateKeyDescriptionRequest(keyId: c.keyID, description: "x"),
                    caller: administrator
                )
            }
        ),
        ("CreateAlias", { c in try await c.fixture.createAlias("alias/state-test", target: c.keyID) }),
    ]

    /// The expected outcome per operation and state.
    static func expected(_ operation: String, _ state: KeyState) -> KMSError.Code? {
        let cryptographic: Set = [
            "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        ]
        let rotation: Set = ["EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"]
        let readOnly: Set = [
            "DescribeKey", "GetKeyRotationStatus", "ListKeyRotations", "GetKeyPolicy", "ListResourceTags",
        ]
        if readOnly.contains(operation) { return nil }
        switch state {
        case .enabled:
            return operation == "CancelKeyDeletion" ? .kmsInvalidStateException : nil
        case .disabled:
            if cryptographic.contains(operation) || rotation.contains(operation) { return .disabledException }
            return operation == "CancelKeyDeletion" ? .kmsInvalidStateException : nil
        default:
            return operation == "CancelKeyDeletion" ? nil : .kmsInvalidStateException
        }
    }

    static let all: [StateCase] = [KeyState.enabled, .disabled, .pendingDeletion].flatMap { state in
        operations.map { name, run in
            StateCase(operation: name, state: state, expected: expected(name, state), run: run)
        }
    }
}
