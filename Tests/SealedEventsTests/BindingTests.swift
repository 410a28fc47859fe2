import EncryptionSDK
import Foundation
import SealedEvents
import SealedTesting
import Testing

/// The binding between an envelope and its sealed payload: every tampering fails, and releases nothing.
struct BindingTests {
    /// A change to a sealed envelope and the error it must cause.
    struct Tampering: Sendable, CustomStringConvertible {
        let description: String
        let scope: Scope
        let expected: SealedEventsError.Code
        let change: @Sendable (inout Envelope, _ other: Envelope) throws -> Void
    }

    static let tamperings: [Tampering] = [
        .init(description: "sealed data copied into another event", scope: .data, expected: .bindingMismatch) {
            envelope,
            other in envelope.data = other.data
        },
        .init(description: "sealed fields copied into another event", scope: .fields, expected: .bindingMismatch) {
            envelope,
            other in envelope.metaData.encryption?.ciphertext = other.metaData.encryption?.ciphertext
        },
        .init(description: "eventType changed", scope: .data, expected: .bindingMismatch) { envelope, _ in
            envelope.metaData.eventType = "payments.card.refunded"
        },
        .init(description: "eventType changed with the context", scope: .fields, expected: .bindingMismatch) {
            envelope,
            _ in
            envelope.metaData.eventType = "payments.card.refunded"
            envelope.metaData.encryption?.encryptionContext["eventType"] = "payments.card.refunded"
        },
        .init(description: "domain changed with the context", scope: .data, expected: .bindingMismatch) { envelope, _ in
            envelope.metaData.domain = "orders"
            envelope.metaData.encryption?.encryptionContext["domain"] = "orders"
        },
        .init(description: "keyArn changed", scope: .data, expected: .bindingMismatch) { envelope, _ in
            envelope.metaData.encryption?.keyArn = "raw:sealed-tests/other-key"
        },
        .init(description: "encryption context pair added", scope: .fields, expected: .bindingMismatch) {
            envelope,
            _ in envelope.metaData.encryption?.encryptionContext["tenant"] = "a"
        },
        .init(description: "encryption context pair removed", scope: .data, expected: .bindingMismatch) {
            envelope,
            _ in envelope.metaData.encryption?.encryptionContext["domain"] = nil
        },
        .init(description: "suite relabelled", scope: .data, expected: .bindingMismatch) { envelope, _ in
            let suite = envelope.metaData.encryption?.algorithmSuite == "0x0578" ? "0x0478" : "0x0578"
            envelope.metaData.encryption?.algorithmSuite = suite
        },
        .init(description: "legacy suite named", scope: .data, expected: .unsupportedAlgorithmSuite) { envelope, _ in
            envelope.metaData.encryption?.algorithmSuite = "0x0014"
        },
        .init(description: "format changed", scope: .fields, expected: .unsupportedFormat) { envelope, _ in
            envelope.metaData.encryption?.format = "jwe"
        },
        .init(description: "scope unknown", scope: .data, expected: .unsupportedFormat) { envelope, _ in
            envelope.metaData.encryption?.scope = Scope(rawValue: "everything")
        },
        .init(description: "scope data relabelled fields", scope: .data, expected: .malformedEnvelope) {
            envelope,
            _ in envelope.metaData.encryption?.scope = .fields
        },
        .init(description: "sealed field pointers swapped", scope: .fields, expected: .bindingMismatch) {
            envelope,
            _ in
            guard var fields = envelope.metaData.encryption?.sealedFields else { return }
            fields.swapAt(0, 1)
            envelope.metaData.encryption?.sealedFields = fields
        },
        .init(description: "sealed field dropped from the list", scope: .fields, expected: .bindingMismatch) {
            envelope,
            _ in envelope.metaData.encryption?.sealedFields?.removeLast()
        },
        .init(description: "sealed field pointer moved", scope: .fields, expected: .bindingMismatch) { envelope, _ in
            try envelope.data.setValue(Envelope.sealedMarker, at: JSONPointer("/card/expiry"))
            envelope.metaData.encryption?.sealedFields?[0] = try JSONPointer("/card/expiry")
        },
        .init(description: "marker replaced by a value", scope: .fields, expected: .bindingMismatch) { envelope, _ in
            try envelope.data.setValue("4000000000000002", at: JSONPointer("/card/number"))
        },
        .init(description: "ciphertext body changed", scope: .fields, expected: .authenticationFailed) {
            envelope,
            _ in
            var bytes = [UInt8](Data(base64Encoded: envelope.metaData.encryption!.ciphertext!)!)
            bytes[bytes.count - 120] ^= 0x01
            envelope.metaData.encryption?.ciphertext = Data(bytes).base64EncodedString()
        },
        .init(description: "data body changed", scope: .data, expected: .authenticationFailed) { envelope, _ in
            var bytes = [UInt8](Data(base64Encoded: envelope.data.stringValue!)!)
            bytes[bytes.count - 110] ^= 0x80
            envelope.data = .string(Data(bytes).base64EncodedString())
        },
        .init(description: "data not base64", scope: .data, expected: .malformedEnvelope) { envelope, _ in
            envelope.data = "not base64!"
        },
        .init(description: "data not an ESDK message", scope: .data, expected: .malformedEnvelope) { envelope, _ in
            envelope.data = .string(Data("hello".utf8).base64EncodedString())
        },
        .init(description: "encryption block removed", scope: .fields, expected: .notSealed) { envelope, _ in
            envelope.metaData.encryption = nil
        },
        .init(description: "reserved context key", scope: .data, expected: .malformedEnvelope) { envelope, _ in
            envelope.metaData.encryption?.encryptionContext["aws-crypto-public-key"] = "x"
        },
    ]

    @Test(arguments: tamperings, Fixtures.suites)
    func tamperingFails(tampering: Tampering, suite: AlgorithmSuite) async throws {
        let sealing: EventTypeDescriptor.Sealing = tampering.scope == .data ? .data : .fields(Fixtures.sensitiveFields)
        let descriptor = Fixtures.descriptor(suite: suite, sealing: sealing)
        let sealer = try Sealer(keyring: Fixtures.keyring)
        let envelope = try await sealer.seal(Fixtures.envelope(eventId: "event-A"), as: descriptor)
        let other = try await sealer.seal(Fixtures.envelope(eventId: "event-B"), as: descriptor)
        let opener = try Opener(keyring: Fixtures.keyring)
        // Both open untouched.
        _ = try await opener.open(envelope)
        _ = try await opener.open(other)

        var tampered = envelope
        try tampering.change(&tampered, other)
        #expect(tampered != envelope)
        for check in [Optional<EventTypeDescriptor>.none, descriptor] {
            do {
                let opened = try await opener.open(tampered, as: check)
                Issue.record("\(tampering) opened: \(opened.metaData.eventId)")
            } catch {
                #expect(error.code == tampering.expected, "\(tampering), descriptor: \(check != nil)")
                // A failed open releases no plaintext, not even in its message.
                for secret in Fixtures.secrets { #expect(!error.description.contains(secret)) }
                #expect(error.accessDenied == nil)
            }
        }
        // Redacting does not hide tampering.
        await #expect(throws: SealedEventsError.self) { try await opener.open(tampered, redacting: true) }
    }

    @Test func envelopeMustMatchTheDescriptor() async throws {
        let descriptor = Fixtures.descriptor(sealing: .data)
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(Fixtures.envelope(), as: descriptor)
        let opener = try Opener(keyring: Fixtures.keyring)
        var others = [
            Fixtures.descriptor(sealing: .data, name: "payments.card.refunded"),
            Fixtures.descriptor(sealing: .data, keyArn: "arn:aws:kms:us-east-1:000000000000:key/other"),
            Fixtures.descriptor(suite: .aes256GCMHKDFSHA512Committing, sealing: .data),
            Fixtures.descriptor(sealing: .fields(Fixtures.sensitiveFields)),
            Fixtures.descriptor(sealing: .none),
        ]
        var otherDomain = descriptor
        otherDomain.domain = "orders"
        others.append(otherDomain)
        for other in others {
            await #expect(throws: SealedEventsError(.bindingMismatch, "")) { try await opener.open(sealed, as: other) }
        }
    }

    @Test func unsealedSensitiveFieldsFailTheDescriptorCheck() async throws {
        let descriptor = Fixtures.descriptor()
        let narrower = Fixtures.descriptor(sealing: .fields([try JSONPointer("/card/number")]))
        let sealed = try await Sealer(keyring: Fixtures.keyring).seal(Fixtures.envelope(), as: narrower)
        // Sealed by an entry with fewer sensitive fields: the card holder travels readable.
        #expect(throws: SealedEventsError(.bindingMismatch, "")) { try SealedMessage(sealed, descriptor: descriptor) }
        #expect(throws: Never.self) { try SealedMessage(sealed, descriptor: narrower) }
    }
}
