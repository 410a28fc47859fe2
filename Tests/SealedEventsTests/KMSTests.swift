import EncryptionSDK
import Foundation
import KMS
import SealedEvents
import SealedTesting
import SigV4
import Testing

/// Sealing with KMS and opening through the reader role, against moto (IAM enforced) as `scripts/test` starts it.
struct KMSTests {
    static let options = ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))

    static func credentials(_ user: MotoFixture.User) -> StaticCredentialProvider {
        StaticCredentialProvider(Credentials(accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey))
    }

    static func kms(_ moto: MotoFixture, _ user: MotoFixture.User) throws -> KMSClient {
        try KMSClient(
            region: moto.region,
            credentialProvider: credentials(user),
            endpoint: moto.endpointURL,
            options: options
        )
    }

    static func aws(_ moto: MotoFixture, _ user: MotoFixture.User) -> AWSConfiguration {
        AWSConfiguration(
            region: moto.region,
            credentialProvider: credentials(user),
            kmsEndpoint: moto.endpointURL,
            stsEndpoint: moto.endpointURL
        )
    }

    static func descriptor(_ moto: MotoFixture, sealing: EventTypeDescriptor.Sealing) -> EventTypeDescriptor {
        Fixtures.descriptor(sealing: sealing, keyArn: moto.primaryKey).with(readerRole: moto.role.arn)
    }

    @Test(arguments: [EventTypeDescriptor.Sealing.data, .fields(Fixtures.sensitiveFields)])
    func sealWithKMSAndOpenThroughTheReaderRole(sealing: EventTypeDescriptor.Sealing) async throws {
        guard let moto = try MotoFixture.located() else { return }
        let descriptor = Self.descriptor(moto, sealing: sealing)
        let sealer = try Sealer(kms: Self.kms(moto, moto.allowed))
        var sealed: [Envelope] = []
        for index in 0..<3 {
            sealed.append(try await sealer.seal(Fixtures.envelope(eventId: "kms-\(index)"), as: descriptor))
        }
        let message = try SealedMessage(sealed[0], descriptor: descriptor)
        #expect(message.keyIdentifiers == [moto.primaryKey])
        #expect(Set(sealed.map { try! SealedMessage($0).header.encryptedDataKeys }).count == 1, "one cached data key")

        let opener = try Opener.assumingReaderRole(
            of: descriptor,
            aws: Self.aws(moto, moto.allowed),
            consumer: "fraud-detector",
            options: Self.options
        )
        for envelope in sealed {
            #expect(try await opener.open(envelope, as: descriptor).data == Fixtures.data)
        }
    }

    @Test func aConsumerThatCannotAssumeTheRoleGetsAccessDenied() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let descriptor = Self.descriptor(moto, sealing: .fields(Fixtures.sensitiveFields))
        let sealed = try await Sealer(kms: Self.kms(moto, moto.allowed)).seal(Fixtures.envelope(), as: descriptor)
        let opener = try Opener.assumingReaderRole(
            of: descriptor,
            aws: Self.aws(moto, moto.denied),
            consumer: "nosy",
            options: Self.options
        )
        do {
            _ = try await opener.open(sealed, as: descriptor)
            Issue.record("the denied user opened the event")
        } catch {
            #expect(error.code == .accessDenied)
            #expect(error.accessDenied?.keyArn == moto.primaryKey)
            #expect(error.accessDenied?.refusal.hasPrefix("STS AccessDenied") == true)
            #expect(error.accessDenied?.requestCommand == AccessTests.command)
        }
        let view = try await opener.open(sealed, as: descriptor, redacting: true)
        #expect(view.sealedFields == Array(Fixtures.sensitiveFields.prefix(4)))
        #expect(try view.data.value(at: JSONPointer("/card/expiry")) == "12/29")
    }

    @Test func aConsumerThatKMSRefusesGetsAccessDenied() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let descriptor = Self.descriptor(moto, sealing: .data)
        let sealed = try await Sealer(kms: Self.kms(moto, moto.allowed)).seal(Fixtures.envelope(), as: descriptor)
        let keyring = try KMSKeyring(
            generatorKeyId: nil,
            keyIds: [moto.primaryKey],
            client: Self.kms(moto, moto.denied)
        )
        do {
            _ = try await Opener(keyring: keyring).open(sealed)
            Issue.record("KMS let the denied user decrypt")
        } catch {
            #expect(error.code == .accessDenied)
            #expect(error.accessDenied?.refusal == "KMS AccessDeniedException")
            #expect(error.accessDenied?.eventType == descriptor.name)
        }
    }

    @Test func aProducerThatKMSRefusesGetsAccessDenied() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let sealer = try Sealer(kms: Self.kms(moto, moto.denied))
        await #expect(throws: SealedEventsError(.accessDenied, "")) {
            try await sealer.seal(Fixtures.envelope(), as: Self.descriptor(moto, sealing: .data))
        }
    }
}

extension EventTypeDescriptor {
    func with(readerRole: String) -> EventTypeDescriptor {
        var copy = self
        copy.readerRoleArn = readerRole
        return copy
    }
}

struct ReaderRoleTests {
    @Test func aReaderRoleIsRequired() {
        var descriptor = Fixtures.descriptor()
        descriptor.readerRoleArn = nil
        let aws = AWSConfiguration(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKIAEXAMPLE", secretAccessKey: "x"))
        )
        #expect(throws: SealedEventsError(.invalidArgument, "")) {
            try Opener.assumingReaderRole(of: descriptor, aws: aws, consumer: "c")
        }
    }
}
