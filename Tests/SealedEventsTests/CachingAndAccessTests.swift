import EncryptionSDK
import KMS
import SealedEvents
import SealedTesting
import Testing

/// Data-key caching on both sides, and what a consumer without access gets.
struct CachingTests {
    @Test(arguments: Fixtures.suites)
    func manyEventsCostOneKeyringCallEachSide(suite: AlgorithmSuite) async throws {
        let descriptor = Fixtures.descriptor(suite: suite)
        let producerKeyring = CountingKeyring(Fixtures.keyring)
        let sealer = try Sealer(keyring: producerKeyring)
        var sealed: [Envelope] = []
        for index in 0..<25 {
            sealed.append(try await sealer.seal(Fixtures.envelope(eventId: "event-\(index)"), as: descriptor))
        }
        #expect(producerKeyring.encryptCalls == 1)

        let consumerKeyring = CountingKeyring(Fixtures.keyring)
        let opener = try Opener(keyring: consumerKeyring)
        for envelope in sealed {
            #expect(try await opener.open(envelope).data == Fixtures.data)
        }
        #expect(consumerKeyring.decryptCalls == 1)
    }

    @Test func theMessageLimitBoundsADataKey() async throws {
        let keyring = CountingKeyring(Fixtures.keyring)
        let sealer = try Sealer(keyring: keyring, configuration: .init(maxMessages: 5))
        for index in 0..<20 {
            _ = try await sealer.seal(Fixtures.envelope(eventId: "e\(index)"), as: Fixtures.descriptor(sealing: .data))
        }
        #expect(keyring.encryptCalls == 4)
    }

    @Test func eventTypesDoNotShareDataKeys() async throws {
        let keyring = CountingKeyring(Fixtures.keyring)
        let sealer = try Sealer(keyring: keyring)
        for name in ["payments.card.captured", "payments.card.refunded", "payments.card.captured"] {
            var envelope = Fixtures.envelope()
            envelope.metaData.eventType = name
            _ = try await sealer.seal(envelope, as: Fixtures.descriptor(sealing: .data, name: name))
        }
        #expect(keyring.encryptCalls == 2)
    }

    @Test func cachedKeysExpireAfterTheRevocationDelay() async throws {
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(Fixtures.envelope(), as: Fixtures.descriptor())
        let clock = TestClock()
        let keyring = CountingKeyring(Fixtures.keyring)
        let opener = try Opener(keyring: keyring, configuration: .init(maxAge: .seconds(300)), clock: clock)
        _ = try await opener.open(sealed)
        clock.advance(by: .seconds(299))
        _ = try await opener.open(sealed)
        #expect(keyring.decryptCalls == 1)
        clock.advance(by: .seconds(2))
        _ = try await opener.open(sealed)
        #expect(keyring.decryptCalls == 2)
    }

    @Test func invalidCacheLimitsAreRejected() {
        #expect(throws: SealedEventsError(.invalidArgument, "")) {
            try Sealer(keyring: Fixtures.keyring, configuration: .init(maxAge: .zero))
        }
        #expect(throws: SealedEventsError(.invalidArgument, "")) {
            try Sealer(keyring: Fixtures.keyring, configuration: .init(maxMessages: 0))
        }
        #expect(throws: SealedEventsError(.invalidArgument, "")) {
            try Opener(keyring: Fixtures.keyring, configuration: .init(maxAge: .seconds(-1)))
        }
    }
}

/// A keyring that fails every decrypt with a given error, as a key service would.
struct FailingKeyring: Keyring {
    let error: any Error & Sendable

    func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials { throw error }

    func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials { throw error }
}

struct AccessTests {
    static let command = #"sealed access request payments.card.captured --justification "…""#

    @Test(arguments: [EventTypeDescriptor.Sealing.data, .fields(Fixtures.sensitiveFields)])
    func aConsumerWithoutTheKeyGetsTheRequestCommand(sealing: EventTypeDescriptor.Sealing) async throws {
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(
            Fixtures.envelope(),
            as: Fixtures.descriptor(sealing: sealing)
        )
        let opener = try Opener(keyring: Fixtures.strangerKeyring)
        do {
            let opened = try await opener.open(sealed)
            Issue.record("opened without the key: \(opened.metaData.eventId)")
        } catch {
            #expect(error.code == .accessDenied)
            let details = try #require(error.accessDenied)
            #expect(details.keyArn == Fixtures.keyArn)
            #expect(details.eventType == "payments.card.captured")
            #expect(details.requestCommand == Self.command)
            #expect(error.description.contains(Self.command))
            for secret in Fixtures.secrets { #expect(!error.description.contains(secret)) }
        }
    }

    @Test func theRedactedViewShowsReadableFieldsAndSaysWhatIsSealed() async throws {
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(Fixtures.envelope(), as: Fixtures.descriptor())
        let view = try await Opener(keyring: Fixtures.strangerKeyring).open(sealed, redacting: true)
        #expect(!view.isComplete)
        #expect(view.sealedFields == Array(Fixtures.sensitiveFields.prefix(4)))
        #expect(view.denial?.code == .accessDenied)
        #expect(view.denial?.accessDenied?.requestCommand == Self.command)
        #expect(view.metaData == sealed.metaData)
        #expect(try view.data.value(at: JSONPointer("/card/expiry")) == "12/29")
        #expect(try view.data.value(at: JSONPointer("/card/number")) == Envelope.sealedMarker)
        #expect(try view.data.value(at: JSONPointer("/amount")) == 1250)
        for secret in Fixtures.secrets { #expect(!view.data.jsonString().contains(secret)) }

        // With access, the same call opens it.
        let opened = try await Opener(keyring: Fixtures.keyring).open(sealed, redacting: true)
        #expect(opened.isComplete && opened.denial == nil && opened.data == Fixtures.data)
    }

    @Test func theRedactedViewOfWholeDataIsTheMarker() async throws {
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(
            Fixtures.envelope(),
            as: Fixtures.descriptor(sealing: .data)
        )
        let view = try await Opener(keyring: Fixtures.strangerKeyring).open(sealed, redacting: true)
        #expect(view.sealedFields == [.root])
        #expect(view.data == Envelope.sealedMarker)
        #expect(view.denial?.accessDenied?.keyArn == Fixtures.keyArn)
        #expect(
            try Opener.redactedView(of: sealed)
                == OpenedEvent(
                    metaData: sealed.metaData,
                    data: Envelope.sealedMarker,
                    sealedFields: [.root],
                    denial: nil
                )
        )
    }

    /// How key-service errors map: refusals are access denied, damaged wrapped keys are authentication failures,
    /// everything else a key-service failure.
    @Test(arguments: [
        (
            KMSError(code: .accessDeniedException, message: "not authorized") as any Error & Sendable,
            SealedEventsError.Code.accessDenied
        ),
        (STSError(code: .accessDenied, message: "not allowed to assume", statusCode: 403), .accessDenied),
        (
            EncryptionSDKError(
                .noDecryptableDataKey,
                "KMS could not decrypt any data key",
                underlyingErrors: [KMSError(code: .accessDeniedException, message: "no")]
            ), .accessDenied
        ),
        (
            EncryptionSDKError(.noDecryptableDataKey, "no aws-kms encrypted data key matches KMSKeyring(k)"),
            .accessDenied
        ),
        (KMSError(code: .invalidCiphertextException), .authenticationFailed),
        (
            EncryptionSDKError(
                .noDecryptableDataKey,
                "KMS could not decrypt any data key",
                underlyingErrors: [KMSError(code: .invalidCiphertextException, message: "bad")]
            ), .authenticationFailed
        ),
        (
            EncryptionSDKError(
                .noDecryptableDataKey,
                "KMS could not decrypt any data key",
                underlyingErrors: [KMSError(code: .disabledException, message: "off")]
            ), .keyServiceFailure
        ),
        (KMSError(code: .disabledException), .keyServiceFailure),
        (KMSError(code: .throttlingException), .keyServiceFailure),
        (ClientError(.connectionFailed, "refused"), .keyServiceFailure),
        (STSError(code: .expiredToken), .keyServiceFailure),
    ])
    func keyServiceErrorsMap(error: any Error & Sendable, expected: SealedEventsError.Code) async throws {
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(Fixtures.envelope(), as: Fixtures.descriptor())
        let opener = try Opener(keyring: FailingKeyring(error: error))
        await #expect(throws: SealedEventsError(expected, "")) { try await opener.open(sealed) }
        if expected == .accessDenied {
            let view = try await opener.open(sealed, redacting: true)
            #expect(view.denial?.accessDenied?.eventType == "payments.card.captured")
        } else {
            await #expect(throws: SealedEventsError(expected, "")) { try await opener.open(sealed, redacting: true) }
        }
    }

    @Test func aProducerRefusedByKMSGetsAccessDenied() async throws {
        let sealer = try Sealer(keyring: FailingKeyring(error: KMSError(code: .accessDeniedException)))
        await #expect(throws: SealedEventsError(.accessDenied, "")) {
            try await sealer.seal(Fixtures.envelope(), as: Fixtures.descriptor())
        }
    }

    @Test func oddEventTypesAreQuotedInTheCommand() {
        let details = SealedEventsError.AccessDenied(keyArn: "k", eventType: "it's odd", refusal: "r")
        #expect(details.requestCommand == #"sealed access request 'it'\''s odd' --justification "…""#)
    }

    @Test func sessionNamesAreValidForSTS() {
        #expect(Opener.sessionName(for: "fraud-detector") == "sealed-fraud-detector")
        #expect(Opener.sessionName(for: "team/svc é") == "sealed-team-svc--")
        #expect(Opener.sessionName(for: String(repeating: "x", count: 100)).count == 64)
        #expect(Opener.sessionName(for: "") == "sealed-consumer")
    }
}
